/**
 * Upgrading a deployment that served the curl API without client authentication before
 * kvdb refused to (issue 26, item 1; docs/PRODUCTION.md "Upgrading"). An index made by a
 * master that knows the rule carries a mark (the "settings" table's SAFE_DEFAULT); an
 * index without it that already holds keys or buckets was serving before the rule, and
 * its master keeps starting beyond loopback without keys, with a warning line, until a
 * key is made. An empty index without the mark is new: it gets the mark, and the rule.
 */
import type { Index } from "../master/index/index.ts";

/** The mark of an index made under the safe default. */
export const SAFE_DEFAULT = "safe-default";

async function holdsAnything(index: Index): Promise<boolean> {
  for await (const _ of index.scan()) return true;
  for await (const _ of index.tables.entries("buckets")) return true;
  return false;
}

/** Whether `index` predates the safe default (kept starting as before); marks a new one. */
export async function predatesSafeDefault(index: Index): Promise<boolean> {
  if (await index.tables.get("settings", SAFE_DEFAULT)) return false;
  if (await holdsAnything(index)) return true;
  await index.tables.put("settings", SAFE_DEFAULT, { since: new Date().toISOString() });
  return false;
}
