/**
 * A direct write's time limits (direct-write.ts). The record is `writing` from the
 * 307 until the volume commits; while its terms hold, it is in flight: another PUT or
 * DELETE of the key waits for it (in-flight.ts) and the janitor leaves it (janitor.ts),
 * though no master holds the key meanwhile. Past them it is abandoned, and undone like
 * any write a stopped master left. Clocks only decide when that happens: every step of
 * the write is a compare-and-set on the record, so a late volume's begin or commit
 * finds the record changed and stores nothing.
 */
import { changesOf, type KeyRecord } from "./index/index.ts";

/** Bodies longer than this go direct unless told otherwise (--direct-threshold): see docs/PERFORMANCE.md. */
export const DIRECT_THRESHOLD = 256 << 10;

/** How long the volume has to begin after the 307 (less if --url-ttl is shorter): the client follows it at once. */
const START_MS = 10_000;
/** Slowest transfer a direct write is given time for, in bytes per ms (1 MB/s). */
const SLOWEST_RATE = 1000;
/** Masters sharing an index read these on their own clocks, which differ a little. */
const MARGIN_MS = 2000;

/** The record's changes (index.ts changesOf) before the volume began (as created), and after. */
export const CREATED = 1;
export const BEGUN = 2;

/** How long the volume of a direct write has to begin, given the master's --url-ttl. */
export function startWindow(urlTtlSeconds: number): number {
  return Math.min(START_MS, 1000 * urlTtlSeconds);
}

/** When a direct write of `bytes` made now must have committed: start, transfer, then the replicas' fsyncs and the commit within a volume timeout. */
export function deadlineFor(now: number, startMs: number, bytes: number, volumeTimeoutMs: number): number {
  return Math.ceil(now + startMs + bytes / SLOWEST_RATE + volumeTimeoutMs);
}

/**
 * Whether `record` is a direct write still in flight at `now`: not begun within the
 * start window of the 307 (its master's, at most START_MS), or begun and not past its deadline.
 */
export function directPending(record: KeyRecord | undefined, now = Date.now()): boolean {
  if (record?.state !== "writing" || !record.direct) return false;
  const until = changesOf(record.version) === CREATED ? Math.min(record.time + START_MS, record.direct.deadline) : record.direct.deadline;
  return now < until + MARGIN_MS;
}
