/**
 * Checks a recorded history (history.ts): each key's operations against the register
 * model (per-key linearizability: a key is a register of its own, so the search runs
 * key by key), and list-after-write over the `?list`s; and prints what it finds, each
 * non-linearizable key with the smallest window of operations that cannot be ordered.
 */
import { interpret, unexpected, type Listed, type ModelOp, type Recorded, type Semantics } from "./history.ts";
import { listAfterWrite, type ListFinding } from "./lists.ts";
import { ABSENT, describeState, step } from "./register.ts";
import { search, type Verdict } from "./search.ts";
import { smallestWindow, type Window } from "./window.ts";

export interface KeyChecked {
  key: string;
  verdict: Verdict;
  /** Operations the model saw (reads that failed and requests never sent left out). */
  ops: number;
  /** Writes that may or may not have taken effect. */
  indeterminate: number;
  /** When it failed: the smallest window that cannot be ordered. */
  window?: Window;
}

export interface Checked {
  keys: KeyChecked[];
  lists: ListFinding[];
  /** Answers no state allows (history.ts unexpected()): each an anomaly of the run. */
  unexpected: Recorded[];
  /** Keys not linearizable, plus list-after-write findings, plus unexpected answers. */
  anomalies: number;
  /** Keys the search could not decide within its budget. */
  undecided: number;
}

export interface CheckOptions {
  /** Bound on each key's search, ms (default 60 s); past it the key is "unknown". */
  budgetMs?: number;
}

export function checkHistory(history: readonly Recorded[], lists: readonly Listed[], s: Semantics, o: CheckOptions = {}): Checked {
  const byKey = new Map<string, ModelOp[]>();
  for (const r of history) {
    const op = interpret(r, s);
    if (!op) continue;
    byKey.set(r.key, [...(byKey.get(r.key) ?? []), op]);
  }
  const keys: KeyChecked[] = [];
  for (const [key, unsorted] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ops = unsorted.sort((a, b) => a.call - b.call);
    const { verdict } = search(ops, ABSENT, (state, op) => step(state, op, s), o.budgetMs);
    const indeterminate = ops.filter((op) => op.ret === Infinity).length;
    keys.push({ key, verdict, ops: ops.length, indeterminate, window: verdict === "fail" ? smallestWindow(ops, s) : undefined });
  }
  const listed = listAfterWrite(history, lists);
  const odd = history.filter((r) => unexpected(r, s));
  const failed = keys.filter((k) => k.verdict === "fail").length;
  return { keys, lists: listed, unexpected: odd, anomalies: failed + listed.length + odd.length, undecided: keys.filter((k) => k.verdict === "unknown").length };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

/** One operation on one line: number, client, master, call … answer, request → answer. */
export function describeOp(r: Recorded): string {
  const when = `${seconds(r.call)} … ${r.ret === undefined ? "(no answer)" : seconds(r.ret)}`;
  const what = r.f === "put" ? `PUT ${JSON.stringify(r.value)}` : r.f === "get" ? "GET" : "DELETE";
  const read = r.f === "get" && r.value !== undefined ? ` ${JSON.stringify(r.value)}` : "";
  return `op ${r.id}  client ${r.client}  via ${r.via}  ${when}  ${what} → ${r.status}${read}`;
}

/** What the check found, for a person: nothing but a summary line when all is well. */
export function describeChecked(c: Checked): string {
  const lines: string[] = [];
  for (const k of c.keys) {
    if (k.verdict === "unknown") lines.push(`${k.key}: undecided (the search ran out of time on ${k.ops} operations, ${k.indeterminate} indeterminate)`);
    if (!k.window) continue;
    const from = k.window.from.map(describeState).join(", ");
    const these = k.window.ops.length === 1 ? "this operation" : `these ${k.window.ops.length} operations`;
    lines.push(`${k.key}: NOT LINEARIZABLE. No order of ${these} is possible, from any state the key could hold before (${from}):`);
    for (const op of k.window.ops) lines.push(`  ${describeOp(op.from)}${op.ret === Infinity && op.from.ret !== undefined ? "  (answered after the window ends: there it may or may not have taken effect)" : ""}`);
  }
  for (const f of c.lists) {
    lines.push(`${f.key}: LIST-AFTER-WRITE. Acknowledged, never possibly deleted since, missing from a list begun after:`);
    lines.push(`  ${describeOp(f.put)}`);
    lines.push(`  list ${f.list.id}  client ${f.list.client}  via ${f.list.via}  ${seconds(f.list.call)} … ${seconds(f.list.ret!)}  ?list of ${f.list.prefix} → ${f.list.keys!.length} keys${f.list.keys!.length <= 10 ? ` ${JSON.stringify(f.list.keys)}` : ""}`);
    if (f.around.length) lines.push(`  the key's other operations from the PUT to 1 s after the list:`);
    for (const r of f.around) lines.push(`    ${describeOp(r)}`);
  }
  const kinds = new Map<string, Recorded[]>();
  for (const r of c.unexpected) {
    const kind = `${r.f.toUpperCase()} → ${r.status}`;
    kinds.set(kind, [...(kinds.get(kind) ?? []), r]);
  }
  for (const [kind, rs] of kinds) {
    lines.push(`UNEXPECTED ANSWER ${kind}, ${rs.length} times (no state of the key allows it), first:`);
    for (const r of rs.slice(0, 3)) lines.push(`  ${describeOp(r)}`);
  }
  const ops = c.keys.reduce((n, k) => n + k.ops, 0);
  lines.push(`${c.keys.length} keys, ${ops} operations checked: ${c.anomalies} anomalies${c.undecided ? `, ${c.undecided} keys undecided` : ""}`);
  return lines.join("\n");
}
