/**
 * The report of `npm run jepsen`: one row per scenario (its runs summed), the totals,
 * and every finding with its smallest window, in Markdown.
 */
import type { RunResult } from "./run.ts";

export interface Header {
  command: string;
  commit: string;
  started: string;
  seconds: number;
  runs: number;
  model: string;
  runtime: string;
}

export function report(h: Header, results: RunResult[]): string {
  const names = [...new Set(results.map((r) => r.scenario))];
  const sum = (rs: RunResult[], k: "ops" | "indeterminate" | "puts" | "putsFailed" | "anomalies" | "lost" | "undecided") => rs.reduce((n, r) => n + r[k], 0);
  const row = (name: string, rs: RunResult[]) => {
    const ran = rs.filter((r) => !r.skipped);
    const skipped = rs.length - ran.length ? ` (${rs.length - ran.length} skipped: ${rs.find((r) => r.skipped)!.skipped})` : "";
    const puts = sum(ran, "puts");
    const failed = puts ? ` (${((100 * sum(ran, "putsFailed")) / puts).toFixed(1)}%)` : "";
    return `| ${name} | ${ran.length}${skipped} | ${sum(ran, "ops")} | ${sum(ran, "indeterminate")} | ${sum(ran, "putsFailed")}${failed} | ${sum(ran, "anomalies")} | ${sum(ran, "lost")} | ${sum(ran, "undecided")} |`;
  };
  const lines = [
    `# kvdb consistency run (${h.started})`,
    "",
    `\`${h.command}\` on ${h.commit}: ${h.runs} run(s) of ${h.seconds} s per scenario, the ${h.runtime} runtime, checked against the ${h.model} semantics (harness/check/history.ts).`,
    "",
    "| scenario | runs | ops | indeterminate | PUTs failed (5xx, no answer) | anomalies | acknowledged writes lost | undecided keys |",
    "|---|---|---|---|---|---|---|---|",
    ...names.map((n) => row(n, results.filter((r) => r.scenario === n))),
    row("**all**", results),
    "",
  ];
  for (const name of names) {
    results
      .filter((r) => r.scenario === name)
      .forEach((r, i) => r.findings && lines.push(`## ${name}, run ${i + 1}`, "", "```", r.findings, "```", ""));
  }
  return lines.join("\n");
}
