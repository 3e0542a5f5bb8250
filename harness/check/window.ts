/**
 * The smallest window of a key's history that cannot be ordered, to print when the whole
 * cannot be. Every cut keeps the window's failure a proof of the whole's: a history that
 * could be ordered would give an order of the window too.
 *   1. the end: the shortest prefix in time that fails, operations still running at its
 *      end made indeterminate (a write) or dropped (a read);
 *   2. the start: the latest point where no answered operation is running, the key's
 *      state there left open (absent, or holding any value);
 *   3. operations that change nothing (reads, refusals, 404s) dropped one by one while
 *      the rest still fails: removing one never makes an orderable history unorderable.
 */
import type { ModelOp, Semantics } from "./history.ts";
import { ABSENT, HALF_DELETED, holding, step } from "./register.ts";
import { search } from "./search.ts";

export interface Window {
  ops: ModelOp[];
  /** The states the key may hold before the window, every one of which fails. */
  from: string[];
}

/** A value no operation of the window reads: stands for every such value. */
export const EARLIER = "(a value written earlier)";

/** `op` as it looks at time `t`, when it has no answer yet: a write that may or may not take effect; a read says nothing. */
function runningAt(op: ModelOp, t: number): ModelOp | undefined {
  if (op.ret <= t) return op;
  if (op.does === "read") return undefined;
  const put = op.from.f === "put";
  return { ...op, ret: Infinity, does: put ? "put?" : "delete?" };
}

export function failsFromEvery(ops: ModelOp[], from: string[], s: Semantics, budgetMs: number): boolean {
  return from.every((init) => search(ops, init, (state, op) => step(state, op, s), budgetMs).verdict === "fail");
}

/** The operations of `ops` (sorted by call) called by time `t`, as they looked then. */
function prefix(ops: ModelOp[], t: number): ModelOp[] {
  return ops.flatMap((o) => (o.call <= t ? (runningAt(o, t) ?? []) : []));
}

/** Smallest k in [lo, hi] with fails(k), given fails(hi). */
function smallest(lo: number, hi: number, fails: (k: number) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

function startStates(window: ModelOp[], s: Semantics): string[] {
  const read = new Set(window.flatMap((o) => (o.does === "read" && o.value !== undefined ? [o.value] : [])));
  return [ABSENT, ...(s.deleteMayClaimInterrupted ? [HALF_DELETED] : []), ...[...read].map(holding), holding(EARLIER)];
}

const changesNothing = (o: ModelOp) => o.does === "read" || o.does === "refused" || o.does === "refused-or-busy" || o.does === "delete-missed";

/** The smallest window of `ops` (sorted by call; the whole fails from absent) that cannot be ordered. */
export function smallestWindow(ops: ModelOp[], s: Semantics, budgetMs = 20_000): Window {
  const fromAbsent = (w: ModelOp[]) => failsFromEvery(w, [ABSENT], s, budgetMs);
  // Cut at each call and each answer; the last, Infinity, keeps the whole.
  const times = [...new Set(ops.flatMap((o) => [o.call, o.ret]))].sort((a, b) => a - b);
  if (times[times.length - 1] !== Infinity) times.push(Infinity);
  const end = prefix(ops, times[smallest(0, times.length - 1, (k) => fromAbsent(prefix(ops, times[k])))]);

  // Points where every answered operation before has returned: the state there is one the key could hold.
  const quiet: number[] = [0];
  let lastReturn = -Infinity;
  for (let i = 0; i < end.length; i++) {
    if (i > 0 && lastReturn < end[i].call) quiet.push(i);
    if (end[i].ret !== Infinity) lastReturn = Math.max(lastReturn, end[i].ret);
  }
  const from = (q: number) => (q === 0 ? [ABSENT] : startStates(cut(end, q), s));
  const cut = (w: ModelOp[], q: number) => w.filter((o, i) => i >= q || o.ret === Infinity);
  // The latest quiet point whose window still fails (quiet[0], the whole prefix, does).
  let lo = 0;
  let hi = quiet.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (failsFromEvery(cut(end, quiet[mid]), from(quiet[mid]), s, budgetMs)) lo = mid;
    else hi = mid - 1;
  }
  let window = cut(end, quiet[lo]);
  const states = from(quiet[lo]);
  for (const o of [...window]) {
    if (!changesNothing(o)) continue;
    const without = window.filter((w) => w !== o);
    if (failsFromEvery(without, states, s, budgetMs)) window = without;
  }
  return { ops: window, from: states };
}
