/**
 * GET/HEAD /key: a 302 to a healthy replica, from the index alone (no volume is
 * contacted on this path). With --proxy, the master streams the body itself.
 */
import type { Context } from "hono";
import { fail } from "../http/errors.ts";
import { storedName } from "../keys/names.ts";
import type { Master } from "./master.ts";
import type { KeyRecord } from "./index/index.ts";

const FORWARDED = ["range", "if-none-match", "if-modified-since"];
const RETURNED = ["content-length", "content-range", "content-type", "accept-ranges", "last-modified"];

export async function read(m: Master, c: Context, key: string): Promise<Response> {
  const record = await m.index.get(key);
  if (!record || record.state !== "live") return c.body(null, 404, { "content-length": "0" });
  const up = record.volumes.filter((v) => m.volumes.isUp(v));
  if (!up.length) return fail(c, 503, "no replica of this key is on a healthy volume");
  const headers = {
    "content-md5": record.md5,
    etag: `"${record.md5}"`,
    "key-volumes": record.volumes.join(","),
  };
  if (m.proxy) return proxy(m, c, key, record, headers);
  const volume = up[Math.floor(Math.random() * up.length)];
  return c.body(null, 302, { ...headers, location: m.client.readUrl(volume, storedName(key, record), record.type), "content-length": "0" });
}

/** Streams the value from the first replica that answers. */
async function proxy(m: Master, c: Context, key: string, record: KeyRecord, headers: Record<string, string>) {
  const ask: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = c.req.header(h);
    if (v) ask[h] = v;
  }
  const res = await readReplica(m, key, record, c.req.method, ask);
  if (!res) return fail(c, 503, `no replica of this key answered (${record.volumes.join(",")})`);
  const out: Record<string, string> = { ...headers };
  for (const h of RETURNED) {
    const v = res.headers.get(h);
    if (v) out[h] = v;
  }
  return new Response(res.body, { status: res.status, headers: out });
}

/**
 * The answer of the first healthy replica, tried in random order, to a GET or HEAD of
 * the value (`ask`: Range and the like), its body streaming; undefined if none answered.
 */
export async function readReplica(m: Master, key: string, record: KeyRecord, method: string, ask: Record<string, string>): Promise<Response | undefined> {
  const name = storedName(key, record);
  for (const volume of shuffle(record.volumes.filter((v) => m.volumes.isUp(v)))) {
    try {
      const res = await m.client.read(volume, name, method, ask);
      if (res.status < 500 && res.status !== 404) return res;
      await res.body?.cancel();
    } catch (e) {
      m.volumes.markDown(volume, (e as Error).message);
    }
  }
  return undefined;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
