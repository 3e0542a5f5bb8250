/**
 * npm run jepsen -- [--scenario all|NAME,…] [--seconds N] [--runs K] [--clients N]
 *   [--keys N] [--runtime node|binary] [--out FILE]
 * Runs each scenario K times (harness/jepsen/run.ts), prints one line per run, and
 * writes the report (report.ts) to FILE (default test-artifacts/jepsen-report.md).
 * Exits 1 if any run found an anomaly or lost an acknowledged write.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { option } from "../../bench/argv.ts";
import { SPEC } from "../check/history.ts";
import { stopAll } from "../children.ts";
import { REPO } from "../paths.ts";
import { startPostgres } from "../postgres.ts";
import { report } from "./report.ts";
import { NOTHING, runScenario, type RunResult } from "./run.ts";
import { cannotRun, scenariosNamed } from "./scenarios.ts";

const scenarios = scenariosNamed(option("scenario", "all"));
const seconds = Number(option("seconds", "60"));
const runs = Number(option("runs", "1"));
const model = "spec";
const semantics = SPEC;
const runtime = option("runtime", "node");
if (runtime !== "node" && runtime !== "binary") throw new Error("--runtime: node or binary");
const out = resolve(option("out", `${REPO}/test-artifacts/jepsen-report.md`));
const workload = { clients: Number(option("clients", "8")), keys: Number(option("keys", "5")), timeoutMs: 5000, thinkMs: 20 };

process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
const started = new Date().toISOString();
const pg = scenarios.some((s) => s.index === "postgres") ? await startPostgres() : undefined;
const results: RunResult[] = [];
try {
  for (const s of scenarios) {
    for (let run = 1; run <= runs; run++) {
      const why = cannotRun(s);
      const r = why
        ? { ...NOTHING, scenario: s.name, skipped: why }
        : await runScenario(s, { seconds, workload, semantics, pg, runtime }).catch(
            // A server that would not restart, say: the run says so and counts as an anomaly.
            (e: Error): RunResult => ({ ...NOTHING, scenario: s.name, anomalies: 1, findings: `the run failed: ${e.stack ?? e.message}` }),
          );
      results.push(r);
      const said = r.skipped ? `skipped: ${r.skipped}` : `${r.ops} ops, ${r.indeterminate} indeterminate, ${r.putsFailed} of ${r.puts} PUTs failed, ${r.anomalies} anomalies, ${r.lost} lost${r.undecided ? `, ${r.undecided} undecided` : ""}`;
      console.log(`${s.name} run ${run}/${runs}: ${said}`);
      if (r.findings) console.log(r.findings.replace(/^/gm, "  | "));
    }
  }
} finally {
  await pg?.close();
}
const commit = execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]).toString().trim();
const command = `npm run jepsen -- ${process.argv.slice(2).join(" ")}`.trim();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, report({ command, commit, started, seconds, runs, model, runtime }, results));
console.log(`report: ${out}`);
process.exitCode = results.some((r) => r.anomalies || r.lost) ? 1 : 0;
