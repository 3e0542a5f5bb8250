/**
 * Runs every tests/*.test.ts file (compiled to dist/node/tests) in its own Node
 * process, two at a time, and ends with one line: "N passed, N failed[, N skipped]".
 * A file that crashes or exits early counts as one failure on top of what it reported;
 * one still running after FILE_DEADLINE_MS (a server a failed test left open keeps its
 * process alive) is killed and counts as failed. So does a file that ran no test, and
 * a name fragment that matches no file: a mistyped filter or a test file that lost its
 * tests must not pass as "0 failed".
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const all = readdirSync(here).filter((f) => f.endsWith(".test.js"));
const files = all.filter((f) => !only.length || only.some((o) => f.includes(o))).sort();
/** Each a failure of its own: what was asked for matches no test file. */
const unmatched = only.length ? only.filter((o) => !all.some((f) => f.includes(o))).map((o) => `no test file matches ${JSON.stringify(o)}`) : [];
if (!all.length) unmatched.push(`no *.test.js files in ${here} (npm run build?)`);
const PARALLEL = Number(process.env.KVDB_TEST_JOBS ?? 2);
const FILE_DEADLINE_MS = 5 * 60_000;

interface Outcome {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  ms: number;
  /** Why the file failed beyond what its tests reported. */
  problem?: string;
}

function runFile(file: string): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, file)], { env: { ...process.env, FORCE_COLOR: "0" } });
    let output = "";
    let killed = false;
    const deadline = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, FILE_DEADLINE_MS);
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
      // uvu's Total counts the tests that ran, not the skipped ones.
      const passed = num("Passed");
      const skipped = num("Skipped");
      let failed = num("Total") - passed;
      let problem: string | undefined;
      if (killed) problem = `killed: still running after ${FILE_DEADLINE_MS / 60_000} minutes`;
      else if (code !== 0 && failed === 0) problem = `exited with ${code ?? signal}`; // crashed, or failed outside a test
      else if (code === 0 && passed + failed + skipped === 0) problem = "ran no test";
      if (problem) failed++;
      resolve({ file, passed, failed, skipped, output, ms: Date.now() - t0, problem });
    });
  });
}

const queue = [...files];
const outcomes: Outcome[] = [];
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const o = await runFile(file);
      outcomes.push(o);
      const mark = o.failed ? "FAIL" : "ok";
      const skips = o.skipped ? `, ${o.skipped} skipped` : "";
      console.log(`${mark.padEnd(4)} ${file} (${o.passed} passed, ${o.failed} failed${skips}, ${(o.ms / 1000).toFixed(1)}s)${o.problem ? `: ${o.problem}` : ""}`);
      if (o.failed) console.log(o.output.replace(/^/gm, "     | "));
      // A file that skips says why, in a line "<what> skipped: <why>".
      else if (o.skipped) console.log(o.output.split("\n").filter((l) => / skipped: /.test(l)).map((l) => `     | ${l}`).join("\n"));
    }
  }),
);
for (const why of unmatched) console.log(`FAIL ${why}`);
const sum = (k: "passed" | "failed" | "skipped") => outcomes.reduce((n, o) => n + o[k], 0);
const failed = sum("failed") + unmatched.length;
const skipped = sum("skipped");
console.log(`${sum("passed")} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed ? 1 : 0;
