/**
 * The three ways to run kvdb (docs/PRODUCTION.md), started exactly as it says: `npx kvdb`,
 * `npx deno task kvdb` and `dist/kvdb` (built first if stale). Each answers
 * --version, runs `kvdb server`, stores and reads a value, and refuses the keys the
 * README says are refused with the same 400 and reason: the raw request target is
 * what counts (Bun.serve resolved `..` before kvdb saw it, and stored /a/../../tmp as /tmp).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ensureBinary } from "../harness/binary.ts";
import { childEnv } from "../harness/children.ts";
import { HOST } from "../harness/kvdb.ts";
import { REPO, tempDir } from "../harness/paths.ts";
import { send } from "./http.ts";
import { until } from "../harness/until.ts";

/** As docs/PRODUCTION.md writes them, run from the repository. */
const WAYS: Record<string, string[]> = {
  node: ["npx", "kvdb"],
  deno: ["npx", "deno", "task", "kvdb"],
  bun: ["dist/kvdb"],
};
/** No update checks or telemetry: only loopback traffic in tests. */
const ENV = { DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1", NO_COLOR: "1", npm_config_update_notifier: "false" };

const BAD_KEYS: [string, string, string][] = [
  ["PUT", "/a/../../tmp", ". or .. segment in key"],
  ["PUT", "/%2e%2e/x", ". or .. segment in key"],
  ["PUT", "/a/%2E%2E/b", ". or .. segment in key"],
  ["PUT", "/a/./b", ". or .. segment in key"],
  ["GET", "/a/../b", ". or .. segment in key"],
  ["PUT", "/a//b", "empty path segment (//) in key"],
  ["PUT", "/a%00b", "NUL byte in key"],
  ["PUT", "/bad%zz", "invalid percent-encoding or UTF-8 in key"],
  ["PUT", "/_kvdb/x", "/_kvdb/ is reserved"],
];

/** `way` + args in its own process group (npx and deno task run kvdb as a grandchild), from the repository. */
function run(way: string[], args: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number | string> } {
  const proc = spawn(way[0], [...way.slice(1), ...args], { cwd: REPO, env: childEnv(ENV), stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | string>((r) => proc.once("exit", (code, sig) => r(code ?? sig ?? -1)));
  return { proc, output: () => out, exited };
}

const killGroup = (proc: ChildProcess) => {
  try {
    process.kill(-proc.pid!, "SIGKILL");
  } catch {
    // gone
  }
};

test.before(() => ensureBinary((line) => console.log(`    ${line}`)));

test("docs/PRODUCTION.md writes each of the three ways as they are run here", () => {
  const doc = readFileSync(join(REPO, "docs", "PRODUCTION.md"), "utf8");
  for (const way of Object.values(WAYS)) assert.ok(doc.includes(`\`${way.join(" ")}`), `docs/PRODUCTION.md lacks \`${way.join(" ")}`);
});

test("deno task kvdb with a deno of one's own (here node_modules' binary, called by path): --version", async () => {
  const r = run([join(REPO, "node_modules", ".bin", "deno"), "task", "kvdb"], ["--version"]);
  assert.is(await r.exited, 0, r.output());
  assert.match(r.output(), /(^|\n)kvdb\/0\.1\.0 \S+ deno-v/);
});

for (const [runtime, way] of Object.entries(WAYS)) {
  test(`${way.join(" ")} --version`, async () => {
    const r = run(way, ["--version"]);
    assert.is(await r.exited, 0, r.output());
    assert.match(r.output(), new RegExp(`(^|\\n)kvdb/0\\.1\\.0 \\S+ ${runtime === "bun" ? "bun" : runtime === "deno" ? "deno" : "node"}-v`));
  });

  test(`${way.join(" ")} server: a value stored and read; every bad key refused with 400 and its reason, on the master and a volume`, async () => {
    const dir = tempDir(`kvdb-${runtime}-way`);
    const r = run(way, ["server", dir, "--port", "0", "--host", HOST]);
    try {
      await until(`${way.join(" ")} server starts`, () => /^kvdb master url=/m.test(r.output()) || r.proc.exitCode !== null, 30_000);
      const master = /^kvdb master url=(\S+)/m.exec(r.output())?.[1];
      const volume = /^kvdb volume url=(\S+)/m.exec(r.output())?.[1];
      assert.ok(master && volume, r.output());
      assert.match(r.output(), new RegExp(`^kvdb master url=\\S+ .*runtime=${runtime}$`, "m"));
      if (runtime === "bun") {
        // The binary executed itself again with its allocator setting, as the same process (runtime/bun-memory.ts).
        const environ = readFileSync(`/proc/${r.proc.pid}/environ`, "utf8").split("\0");
        assert.ok(environ.includes("MIMALLOC_PURGE_DELAY=-1"), environ.filter((e) => e.startsWith("MIMALLOC")).join());
      }
      const put = await send(master, "PUT", "/ways/hello", "hello");
      assert.is(put.status, 201, put.body.toString());
      const get = await fetch(`${master}/ways/hello`);
      assert.equal([get.status, await get.text()], [200, "hello"]);
      for (const [method, path, reason] of BAD_KEYS) {
        const res = await send(master, method, path, method === "PUT" ? "x" : undefined);
        assert.equal([res.status, res.body.toString()], [400, `${reason}\n`], `${method} ${path} on the master`);
      }
      // A volume reads without a signature (no --private), so the key is checked there too.
      for (const path of ["/a/../b", "/%2e%2e/etc/passwd", "/a/./b"]) {
        const res = await send(volume, "GET", path);
        assert.equal([res.status, res.body.toString()], [400, ". or .. segment in key\n"], `GET ${path} on a volume`);
      }
      const list = await fetch(`${master}/?list`);
      assert.equal(((await list.json()) as { keys: string[] }).keys, ["/ways/hello"]);
    } finally {
      killGroup(r.proc);
      await r.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
