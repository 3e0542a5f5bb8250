/**
 * Acknowledged writes lost: a PUT that got 201, with no DELETE of its key that may have
 * come after it, whose value the key no longer holds once the run is over and every
 * fault healed (read through a master and from the volume it redirects to). For S3's
 * objects (Semantics.overwrites) the PUT got 200, and another PUT that may have come
 * after it excuses it too: it may have replaced the value.
 */
import type { Recorded, Semantics } from "./history.ts";
import { mayRemove } from "./lists.ts";

/** What a key held at the end: its value, undefined when absent, null when it could not be read. */
export type Final = string | undefined | null;

/** An S3 PUT that may have stored its value: a 200, a 5xx or no answer. */
const mayStore = (r: Recorded) => r.f === "put" && (r.status === 200 || r.status === "timeout" || r.status === "lost" || (typeof r.status === "number" && r.status >= 500));

export function lostWrites(history: readonly Recorded[], finals: ReadonlyMap<string, Final>, s: Semantics): Recorded[] {
  const changes = (r: Recorded) => mayRemove(r) || (s.overwrites && mayStore(r));
  // Per key, the two changes that ended last: a change may have come after a PUT if it
  // was still running when the PUT was called, and the last may be that PUT itself.
  const last = new Map<string, { op: Recorded; end: number }[]>();
  for (const r of history) {
    if (!changes(r)) continue;
    const two = [...(last.get(r.key) ?? []), { op: r, end: r.ret ?? Infinity }].sort((a, b) => b.end - a.end).slice(0, 2);
    last.set(r.key, two);
  }
  const changedAfter = (p: Recorded) => (last.get(p.key) ?? []).some((c) => c.op !== p && c.end >= p.call);
  const acked = s.overwrites ? 200 : 201;
  return history.filter((p) => p.f === "put" && p.status === acked && !changedAfter(p) && finals.get(p.key) !== p.value);
}
