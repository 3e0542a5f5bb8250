/**
 * Carrying out the buckets' lifecycle rules (lifecycle-config.ts): objects past their
 * Expiration are deleted as DeleteObject deletes them (objects.ts deleteKey: under the
 * key's lock, a compare-and-set on the record it saw, so a value written meanwhile is
 * kept), and uploads past AbortIncompleteMultipartUpload are aborted with their parts.
 * It runs as the master's lifecycle job (master/values.ts runLifecycle): once per pass
 * across every master sharing the index, its tallies in the job and in the metrics.
 * When things expire: lifecycle-dates.ts.
 */
import type { Counter, Gauge, Registry } from "../observe/metrics.ts";
import { repeat } from "../repeat.ts";
import type { Job, KeyRecord, Precondition } from "../master/values.ts";
import { asS3Error } from "./errors.ts";
import type { LifecycleRule } from "./lifecycle-config.ts";
import { dueAt, expiryOf } from "./lifecycle-dates.ts";
import { dropUpload, uploadLock, type Upload } from "./multipart.ts";
import { bucketPrefix, type Bucket } from "./names.ts";
import { deleteKey } from "./objects.ts";
import type { S3 } from "./s3.ts";

export interface LifecycleMetrics {
  expired: Counter;
  aborted: Counter;
  lastRun: Gauge;
}

export function lifecycleMetrics(r: Registry): LifecycleMetrics {
  return {
    expired: r.counter("kvdb_lifecycle_expired_objects_total", "S3 objects this master deleted by their bucket's lifecycle Expiration"),
    aborted: r.counter("kvdb_lifecycle_aborted_uploads_total", "S3 multipart uploads this master aborted by their bucket's lifecycle AbortIncompleteMultipartUpload"),
    lastRun: r.gauge("kvdb_lifecycle_last_run_timestamp_seconds", "When this master last finished a lifecycle run"),
  };
}

/** How often each master asks for a run: hourly, or every tenth of a day when days are shorter (tests), at most every 200 ms. */
export const runEvery = (dayMs: number) => Math.max(200, Math.min(3_600_000, dayMs / 10));

/** The buckets that have enabled rules, with those rules. */
async function bucketsWithRules(s: S3): Promise<Map<string, LifecycleRule[]>> {
  const found = new Map<string, LifecycleRule[]>();
  for await (const [name, b] of s.values.tables.entries<Bucket>("buckets")) {
    const rules = b.lifecycle?.filter((r) => r.enabled);
    if (rules?.length) found.set(name, rules);
  }
  return found;
}

/** Expired objects are gathered at most this many at a time, then deleted. */
const AT_ONCE = 1000;

/** The record changed after the scan saw it expired (written again): it is kept. */
const CHANGED = new Error("written again since");

/** The same value as the scan saw, still live: what a lifecycle delete needs (else CHANGED). */
const unchanged =
  (seen: KeyRecord): Precondition =>
  (current) => {
    if (!current || current.state !== "live" || current.time !== seen.time || current.md5 !== seen.md5 || current.blob !== seen.blob) throw CHANGED;
  };

/** The expired objects (keys: `prefix` + object) from `from` on under `start`, up to AT_ONCE of them, and where the next batch starts (undefined: done). */
async function expiredBatch(s: S3, prefix: string, start: string, rules: LifecycleRule[], from: string, now: number, job: Job): Promise<{ expired: [string, KeyRecord][]; next?: string }> {
  const expired: [string, KeyRecord][] = [];
  for await (const [key, record] of s.values.scan(from)) {
    if (!key.startsWith(start)) break;
    job.done++;
    const object = key.slice(prefix.length);
    if (record.state === "live" && rules.some((r) => (expiryOf(r, object, record, s.lifecycleDayMs) ?? Infinity) <= now)) expired.push([key, record]);
    if (expired.length === AT_ONCE) return { expired, next: `${key}\0` }; // keys never hold NUL: the first key after this one
  }
  return { expired };
}

/** The longest prefix every rule's prefix starts with: where a run looks. */
function sharedPrefix(rules: LifecycleRule[]): string {
  let shared = rules[0].prefix;
  for (const { prefix } of rules) while (!prefix.startsWith(shared)) shared = shared.slice(0, -1);
  return shared;
}

/** Deletes the bucket's expired objects; how many. A key another write holds is left for the next run. */
async function expireObjects(s: S3, bucket: string, rules: LifecycleRule[], now: number, job: Job, metrics: LifecycleMetrics): Promise<number> {
  const prefix = bucketPrefix(bucket);
  const start = prefix + sharedPrefix(rules);
  let deleted = 0;
  for (let from: string | undefined = start; from !== undefined; ) {
    const batch = await expiredBatch(s, prefix, start, rules, from, now, job);
    for (const [key, record] of batch.expired) {
      try {
        if (!(await deleteKey(s.values, key, unchanged(record)))) continue;
        deleted++;
        metrics.expired.inc();
      } catch (e) {
        if (e === CHANGED) continue;
        if (asS3Error(e).code !== "OperationAborted") throw e;
        job.counts.busy = (job.counts.busy ?? 0) + 1;
      }
    }
    from = batch.next;
  }
  return deleted;
}

/** The rule that aborts `u` by `now`, if any. */
const abortingRule = (rules: LifecycleRule[], u: Upload, now: number, dayMs: number) =>
  rules.find((r) => r.abortDays !== undefined && u.object.startsWith(r.prefix) && dueAt(u.initiated, r.abortDays, dayMs) <= now);

/** Aborts the incomplete uploads past their bucket's AbortIncompleteMultipartUpload; how many. */
async function abortUploads(s: S3, buckets: Map<string, LifecycleRule[]>, now: number, metrics: LifecycleMetrics): Promise<number> {
  const stale: string[] = [];
  for await (const [id, u] of s.values.tables.entries<Upload>("uploads")) {
    const rules = buckets.get(u.bucket);
    if (rules && !u.completed && abortingRule(rules, u, now, s.lifecycleDayMs)) stale.push(id);
  }
  let aborted = 0;
  for (const id of stale) {
    // Held: being completed or aborted by a client just now; else looked at again, under the lock.
    await s.values.locks.hold(uploadLock(id), async () => {
      const u = await s.values.tables.get<Upload>("uploads", id);
      if (!u || u.completed) return;
      await dropUpload(s.values, id);
      aborted++;
      metrics.aborted.inc();
    });
  }
  return aborted;
}

/** One run: every bucket's enabled rules carried out as of `now`, tallied in `job` and the metrics. */
export async function runLifecycle(s: S3, metrics: LifecycleMetrics, job: Job, now = Date.now()): Promise<void> {
  const buckets = await bucketsWithRules(s);
  let expired = 0;
  for (const [bucket, rules] of buckets) expired += await expireObjects(s, bucket, rules, now, job, metrics);
  const aborted = await abortUploads(s, buckets, now, metrics);
  metrics.lastRun.set({}, Date.now() / 1000);
  job.counts.expired = expired;
  job.counts.aborted = aborted;
  job.total = job.done;
  job.ok = true;
  job.summary = `lifecycle: ${expired} objects expired, ${aborted} uploads aborted in ${buckets.size} buckets with rules`;
}

/** Asks for a run every runEvery(day), when some bucket has rules, until the returned function is called. */
export function startLifecycle(s: S3, metrics: LifecycleMetrics): () => void {
  const every = runEvery(s.lifecycleDayMs);
  return repeat("s3 lifecycle", every, async () => {
    if ((await bucketsWithRules(s)).size) await s.values.runLifecycle(every, (job) => runLifecycle(s, metrics, job));
  });
}
