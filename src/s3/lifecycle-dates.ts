/**
 * When a lifecycle rule (lifecycle-config.ts) expires an object or an upload. Days are
 * S3's: what was made at t under a rule of n days expires at the first midnight UTC at or
 * after t + n days. A shorter day (KVDB_LIFECYCLE_DAY_MS, for tests, as ceph's
 * rgw_lc_debug_interval) makes midnights every day-length since the epoch.
 */
import type { KeyRecord } from "../master/values.ts";
import type { LifecycleRule } from "./lifecycle-config.ts";

export const DAY_MS = 86_400_000;

/** When something made at `t` expires after `days` (S3's rounding up to the next midnight). */
export const dueAt = (t: number, days: number, dayMs: number) => Math.ceil((t + days * dayMs) / dayMs) * dayMs;

/** When the object `record` expires under `rule`; undefined if the rule does not expire it. */
export function expiryOf(rule: LifecycleRule, object: string, record: KeyRecord, dayMs: number): number | undefined {
  if (!rule.enabled || !object.startsWith(rule.prefix)) return undefined;
  if ((rule.larger !== undefined && record.size <= rule.larger) || (rule.smaller !== undefined && record.size >= rule.smaller)) return undefined;
  return rule.days !== undefined ? dueAt(record.time, rule.days, dayMs) : rule.date;
}

/**
 * The x-amz-expiration header of an object S3 answers with (PutObject, GetObject,
 * HeadObject): when the first rule that expires it does, and that rule's ID; none if no rule does.
 */
export function expirationHeader(rules: LifecycleRule[] | undefined, object: string, record: KeyRecord, dayMs: number): Record<string, string> {
  let first: { at: number; id: string } | undefined;
  for (const rule of rules ?? []) {
    const at = expiryOf(rule, object, record, dayMs);
    if (at !== undefined && (!first || at < first.at)) first = { at, id: rule.id };
  }
  return first ? { "x-amz-expiration": `expiry-date="${new Date(first.at).toUTCString()}", rule-id="${encodeURIComponent(first.id)}"` } : {};
}
