/**
 * `kvdb keys create --bootstrap`: the first admin key, written straight into the index
 * (a LevelDB directory whose master is stopped, or PostgreSQL at any time), since no
 * master accepts a key-management call before a key exists.
 */
import { KeyStore } from "../auth/key-store.ts";
import { grantText, newClientKey, tokenOf, type Grant } from "../auth/keys.ts";
import { openIndex } from "../master/index/open.ts";
import { bearer } from "./job-client.ts";

/** What `keys create` prints: the secret is shown this once and never again. */
export function createdLines(id: string, name: string, secret: string, grants: Grant[]): string {
  return `id=${id}\nname=${name}\ngrants=${grants.map(grantText).join(",")}\nsecret=${secret}\ntoken=${tokenOf(id, secret)}\n`;
}

export async function bootstrapKey(db: string, name: string, grants: Grant[]): Promise<string> {
  const index = await openIndex(db);
  try {
    const { id, key } = newClientKey(name, grants);
    await new KeyStore(index.tables).put(id, key);
    return createdLines(id, name, key.secret, grants);
  } finally {
    await index.close();
  }
}

export interface KeyCallOptions {
  master: string;
  /** An admin key's token (--token, KVDB_TOKEN). */
  token?: string;
  verb: "create" | "list" | "grant" | "revoke" | "delete";
  /** create: the name; grant, revoke, delete: the key id. */
  name?: string;
  grants: Grant[];
}

/** `kvdb keys VERB` through a master (auth/key-routes.ts); what to print, or throws the master's answer. */
export async function callKeys(o: KeyCallOptions): Promise<string> {
  const base = `${/^https?:\/\//.test(o.master) ? o.master : `http://${o.master}`}`.replace(/\/$/, "");
  const headers = { "content-type": "application/json", ...bearer(o.token) };
  const call = async (method: string, path: string, body?: object) => {
    const res = await fetch(`${base}/_kvdb/keys${path}`, { method, headers, body: body && JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} /_kvdb/keys${path}: ${res.status} ${(await res.text()).trim()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const id = encodeURIComponent(o.name ?? "");
  switch (o.verb) {
    case "create": {
      const k = await call("POST", "", { name: o.name, grants: o.grants.map(grantText) });
      return createdLines(k.id, k.name, k.secret, o.grants);
    }
    case "list": {
      const keys: { id: string; name: string; grants: string[]; created: string }[] = await call("GET", "");
      return keys.map((k) => `${k.id} ${k.name} ${k.grants.join(",")} ${k.created}\n`).join("");
    }
    case "grant":
    case "revoke": {
      let k: { id: string; grants: string[] } | undefined;
      for (const g of o.grants) k = await call("POST", `/${id}/${o.verb}`, { grant: grantText(g) });
      return `id=${k!.id}\ngrants=${k!.grants.join(",")}\n`;
    }
    case "delete":
      await call("DELETE", `/${id}`);
      return `deleted ${o.name}\n`;
  }
}
