/**
 * Is there an order of these operations that respects real time (an operation that
 * returned before another was called comes first) and that the model accepts? The
 * Wing–Gong search with Lowe's memoization, as Porcupine does it (github.com/anishathalye/
 * porcupine, checker.go): take any operation that may come next, step the model, go
 * deeper; back up when no operation fits; never enter the same (set of operations done,
 * state) twice. The caller splits the history by key first (P-compositionality): each
 * key is a register of its own.
 *
 * An operation with `ret` Infinity may or may not have taken effect: it is chosen only
 * to take effect, and the search ends once every operation with an answer is placed.
 */

export interface Timed {
  call: number;
  /** Infinity: no answer, the operation may take effect at any time after its call, or never. */
  ret: number;
}

export type Verdict = "ok" | "fail" | "unknown";

export interface Searched {
  verdict: Verdict;
  /** ok: indices (into the ops given) in an order the model accepts, indeterminate ones that took effect included. */
  order: number[];
  /** Model steps taken (a measure of the search's work). */
  steps: number;
}

/** A pseudo-random 32-bit word per operation (xorshift, fixed seed): the search's set of done operations hashes to two of them. */
function zobrist(n: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

interface Frame {
  state: string;
  /** The operations that may come next here, and the next of them to try. */
  next: number[];
  at: number;
  /** The operation whose step led here (-1 at the root). */
  chosen: number;
}

/**
 * Searches for an order of `ops` (sorted by call) from `init`. `budgetMs` bounds the
 * search: past it the verdict is "unknown".
 */
export function search<O extends Timed>(ops: readonly O[], init: string, step: (state: string, op: O) => string | undefined, budgetMs = 60_000): Searched {
  const n = ops.length;
  for (let i = 1; i < n; i++) if (ops[i].call < ops[i - 1].call) throw new Error("search: operations must be sorted by call time");
  const done = new Uint8Array(n);
  const z1 = zobrist(n, 0x9e3779b9);
  const z2 = zobrist(n, 0x7f4a7c15);
  let h1 = 0;
  let h2 = 0;
  let answeredLeft = ops.filter((o) => o.ret !== Infinity).length;
  let first = 0; // every operation before it is done
  const seen = new Set<string>();
  const deadline = Date.now() + budgetMs;
  let steps = 0;

  /** What may come next: not done, called before every answered operation not done has returned. */
  const candidates = (): number[] => {
    while (first < n && done[first]) first++;
    const out: number[] = [];
    let earliestReturn = Infinity;
    for (let i = first; i < n && ops[i].call <= earliestReturn; i++) {
      if (done[i]) continue;
      out.push(i);
      if (ops[i].ret < earliestReturn) earliestReturn = ops[i].ret;
    }
    return out;
  };
  const toggle = (i: number) => {
    done[i] ^= 1;
    h1 ^= z1[i];
    h2 ^= z2[i];
    if (ops[i].ret !== Infinity) answeredLeft += done[i] ? -1 : 1;
    if (!done[i] && i < first) first = i;
  };

  const stack: Frame[] = [{ state: init, next: candidates(), at: 0, chosen: -1 }];
  let rounds = 0;
  while (answeredLeft > 0) {
    if ((++rounds & 0xfff) === 0 && Date.now() > deadline) return { verdict: "unknown", order: [], steps };
    const top = stack[stack.length - 1];
    let entered = false;
    while (top.at < top.next.length) {
      const i = top.next[top.at++];
      const after = step(top.state, ops[i]);
      steps++;
      if (after === undefined) continue;
      toggle(i);
      // Two words of hash for the set of done operations: a false "seen" needs a 64-bit collision.
      const memo = `${h1},${h2},${after}`;
      if (seen.has(memo)) {
        toggle(i);
        continue;
      }
      seen.add(memo);
      stack.push({ state: after, next: candidates(), at: 0, chosen: i });
      entered = true;
      break;
    }
    if (entered) continue;
    if (stack.length === 1) return { verdict: "fail", order: [], steps };
    toggle(stack.pop()!.chosen);
  }
  return { verdict: "ok", order: stack.slice(1).map((f) => f.chosen), steps };
}
