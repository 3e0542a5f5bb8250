/**
 * The test runner itself (tests/run.ts), run on fixture files in a temp dir: its last
 * line and exit code must report a failure for a file that fails, crashes or runs no
 * test, and for a name fragment that matches no file; a skipped test is no failure.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runChild } from "../harness/children.ts";
import { tempDir } from "../harness/paths.ts";

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), "run.js");
const uvu = `import { test } from ${JSON.stringify(import.meta.resolve("uvu"))};`;
const FIXTURES: Record<string, string> = {
  "pass.test.js": `${uvu} test("passes", () => {}); test.run();`,
  "fail.test.js": `${uvu} test("fails", () => { throw new Error("expected to fail"); }); test.run();`,
  "skip.test.js": `${uvu} test.skip("skipped", () => {}); test.run();`,
  "empty.test.js": `${uvu} test.run();`,
  "crash.test.js": `throw new Error("crashed before any test");`,
};

let dir: string;

test.before(() => {
  dir = tempDir("kvdb-runner");
  copyFileSync(RUNNER, join(dir, "run.js"));
  for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(dir, name), text);
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the runner in `where` with these name fragments: its exit code, every line and the last. */
async function runner(args: string[], where = dir): Promise<{ code: number | string; stdout: string; last: string }> {
  const r = await runChild([process.execPath, join(where, "run.js"), ...args], { env: { KVDB_TEST_JOBS: "1" }, timeoutMs: 30_000 });
  return { code: r.code, stdout: r.stdout, last: r.stdout.trimEnd().split("\n").at(-1) ?? "" };
}

test("a passing file: 1 passed, 0 failed, exit 0", async () => {
  const r = await runner(["pass"]);
  assert.is(r.last, "1 passed, 0 failed");
  assert.is(r.code, 0, r.stdout);
});

test("a failing test: counted once, exit 1, no extra reason", async () => {
  const r = await runner(["fail"]);
  assert.match(r.stdout, /^FAIL fail\.test\.js \(0 passed, 1 failed, [\d.]+s\)$/m);
  assert.is(r.last, "0 passed, 1 failed");
  assert.is(r.code, 1);
});

test("a filter that matches no file is a failure that names it", async () => {
  const r = await runner(["nosuchfile"]);
  assert.match(r.stdout, /^FAIL no test file matches "nosuchfile"$/m);
  assert.is(r.last, "0 passed, 1 failed");
  assert.is(r.code, 1);
});

test("one fragment of several matching nothing still fails the run", async () => {
  const r = await runner(["pass", "pas_typo"]);
  assert.match(r.stdout, /^ok {3}pass\.test\.js /m);
  assert.match(r.stdout, /^FAIL no test file matches "pas_typo"$/m);
  assert.is(r.last, "1 passed, 1 failed");
  assert.is(r.code, 1);
});

test("a file that runs no test is a failure that says so", async () => {
  const r = await runner(["empty"]);
  assert.match(r.stdout, /^FAIL empty\.test\.js \(0 passed, 1 failed, [\d.]+s\): ran no test$/m);
  assert.is(r.last, "0 passed, 1 failed");
  assert.is(r.code, 1);
});

test("a skipped test is counted as skipped, not as failed", async () => {
  const r = await runner(["skip"]);
  assert.match(r.stdout, /^ok {3}skip\.test\.js \(0 passed, 0 failed, /m);
  assert.is(r.last, "0 passed, 0 failed, 1 skipped");
  assert.is(r.code, 0, r.stdout);
});

test("a file that crashes before any test: one failure, with its exit code", async () => {
  const r = await runner(["crash"]);
  assert.match(r.stdout, /^FAIL crash\.test\.js \(0 passed, 1 failed, [\d.]+s\): exited with 1$/m);
  assert.match(r.stdout, /crashed before any test/);
  assert.is(r.last, "0 passed, 1 failed");
  assert.is(r.code, 1);
});

test("every file together: the counts add up", async () => {
  const r = await runner([]);
  assert.is(r.last, "1 passed, 3 failed, 1 skipped");
  assert.is(r.code, 1);
});

test("a folder with no test files at all is a failure", async () => {
  const bare = join(dir, "bare");
  mkdirSync(bare);
  copyFileSync(RUNNER, join(bare, "run.js"));
  const r = await runner([], bare);
  assert.match(r.stdout, /^FAIL no \*\.test\.js files in /m);
  assert.is(r.last, "0 passed, 1 failed");
  assert.is(r.code, 1);
});

test.run();
