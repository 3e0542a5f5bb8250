/** The result table: one row per workload step, aligned columns. */
import { alignTable } from "../cli/table.ts";
import type { StepSummary, WorkloadResult } from "./stats.ts";

const COLUMNS = ["workload", "step", "ops", "ops/s", "MB/s", "p50 ms", "p99 ms", "errors"] as const;

function num(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "-";
  if (n >= 100) return Math.round(n).toString();
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function row(workload: string, s: StepSummary): string[] {
  return [workload, s.step, String(s.ops), num(s.opsPerSec), num(s.mbPerSec), num(s.p50Ms), num(s.p99Ms), String(s.errors)];
}

/** Rows shown: every step, except setup/cleanup steps that went well. */
function shownSteps(w: WorkloadResult): StepSummary[] {
  return w.steps.filter((s) => s.kind !== "quiet" || s.errors > 0);
}

export function renderTable(results: WorkloadResult[]): string {
  const rows = results.flatMap((w) => shownSteps(w).map((s) => row(w.workload, s)));
  // Text columns to the left, numbers to the right.
  return alignTable(COLUMNS, rows, (i) => i >= 2);
}

/** Failed operations, not counting a cycle's failure on top of its step's. */
export function errorCount(results: WorkloadResult[]): number {
  return results.reduce((n, w) => n + w.steps.reduce((m, s) => m + (s.kind === "cycle" ? 0 : s.errors), 0), 0);
}
