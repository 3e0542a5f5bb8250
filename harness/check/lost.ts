/**
 * Acknowledged writes lost: a PUT that got 201, with no DELETE of its key that may have
 * come after it, whose value the key no longer holds once the run is over and every
 * fault healed (read through a master and from the volume it redirects to).
 */
import type { Recorded } from "./history.ts";
import { mayRemove } from "./lists.ts";

/** What a key held at the end: its value, undefined when absent, null when it could not be read. */
export type Final = string | undefined | null;

export function lostWrites(history: readonly Recorded[], finals: ReadonlyMap<string, Final>): Recorded[] {
  // A DELETE may have come after a PUT if it was still running when the PUT was called.
  const lastDeleteEnd = new Map<string, number>();
  for (const d of history) if (mayRemove(d)) lastDeleteEnd.set(d.key, Math.max(lastDeleteEnd.get(d.key) ?? -Infinity, d.ret ?? Infinity));
  return history.filter((p) => p.f === "put" && p.status === 201 && (lastDeleteEnd.get(p.key) ?? -Infinity) < p.call && finals.get(p.key) !== p.value);
}
