/**
 * Runs every tests/*.test.ts file (compiled to dist/node/tests) in its own Node
 * process, two at a time, and ends with one line: "N passed, N failed" (", N skipped"
 * if a file skipped tests: their "... skipped: <why>" lines are shown).
 * A file that crashes or exits early counts as one failure on top of what it reported;
 * one still running after FILE_DEADLINE_MS (a server a failed test left open keeps its
 * process alive) is killed and counts as failed.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".test.js"))
  .filter((f) => !only.length || only.some((o) => f.includes(o)))
  .sort();
const PARALLEL = Number(process.env.KVDB_TEST_JOBS ?? 2);
const FILE_DEADLINE_MS = 5 * 60_000;

interface Outcome {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  ms: number;
}

function runFile(file: string): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(here, file)], { env: { ...process.env, FORCE_COLOR: "0" } });
    let output = "";
    const deadline = setTimeout(() => {
      output += `\nkilled: still running after ${FILE_DEADLINE_MS / 60_000} minutes\n`;
      child.kill("SIGKILL");
    }, FILE_DEADLINE_MS);
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => {
      clearTimeout(deadline);
      const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
      const total = num("Total");
      const passed = num("Passed");
      const skipped = num("Skipped");
      let failed = total - passed; // uvu's Total counts the tests that ran: skipped ones are not in it
      if (code !== 0 && failed === 0) failed = 1; // crashed, or failed outside a test
      resolve({ file, passed, failed, skipped, output, ms: Date.now() - t0 });
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
      console.log(`${mark.padEnd(4)} ${file} (${o.passed} passed, ${o.failed} failed${skips}, ${(o.ms / 1000).toFixed(1)}s)`);
      if (o.failed) console.log(o.output.replace(/^/gm, "     | "));
      // A file that skips says why, in a line "<what> skipped: <why>".
      else if (o.skipped) console.log(o.output.split("\n").filter((l) => / skipped: /.test(l)).map((l) => `     | ${l}`).join("\n"));
    }
  }),
);
const sum = (k: "passed" | "failed" | "skipped") => outcomes.reduce((n, o) => n + o[k], 0);
const skipped = sum("skipped");
console.log(`${sum("passed")} passed, ${sum("failed")} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exitCode = sum("failed") ? 1 : 0;
