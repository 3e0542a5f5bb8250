/**
 * `kvdb keys create --bootstrap`: the first admin key, written straight into the index
 * (a LevelDB directory whose master is stopped, or PostgreSQL at any time), since no
 * master accepts a key-management call before a key exists.
 */
import { KeyStore } from "../auth/key-store.ts";
import { grantText, newClientKey, tokenOf, type Grant } from "../auth/keys.ts";
import { openIndex } from "../master/index/open.ts";

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
