/**
 * The client keys in the index's "credentials" table (master/index/tables.ts), so every master
 * sharing an index sees the same ones, cached: a key looked up is trusted for
 * KEY_CACHE_MS, so a key deleted or changed on one master stops working on every other
 * within that bound (on the master that changed it, at once).
 */
import type { Tables } from "../master/index/tables.ts";
import type { ClientKey } from "./keys.ts";

/** How long a looked-up key (or its absence) is trusted: the bound on revocation. */
export const KEY_CACHE_MS = 5_000;

export class KeyStore {
  private readonly cache = new Map<string, { key: ClientKey | undefined; at: number }>();

  constructor(private readonly tables: Tables) {}

  /** The key, from the cache when fresh; synchronous then (the fast path needs no promise). */
  cached(id: string, now = Date.now()): ClientKey | undefined | "stale" {
    const hit = this.cache.get(id);
    return hit && now - hit.at < KEY_CACHE_MS ? hit.key : "stale";
  }

  async get(id: string): Promise<ClientKey | undefined> {
    const hit = this.cached(id);
    if (hit !== "stale") return hit;
    const key = await this.tables.get<ClientKey>("credentials", id);
    if (this.cache.size > 10_000) this.cache.clear(); // unknown ids tried by a client stay bounded
    this.cache.set(id, { key, at: Date.now() });
    return key;
  }

  async put(id: string, key: ClientKey): Promise<void> {
    await this.tables.put("credentials", id, key);
    this.cache.set(id, { key, at: Date.now() });
  }

  async delete(id: string): Promise<void> {
    await this.tables.delete("credentials", id);
    this.cache.delete(id);
  }

  async *list(): AsyncGenerator<[string, ClientKey]> {
    yield* this.tables.entries<ClientKey>("credentials");
  }

  /** Whether any key exists: authentication is on from then on. */
  async any(): Promise<boolean> {
    for await (const _ of this.list()) return true;
    return false;
  }
}
