/**
 * `kvdb bench`, run as a child process against real servers: every workload runs
 * and prints a table with no errors, --json parses, bad flags give one line and exit
 * 2, an unreachable master exit 1. No timing is asserted: only counts and errors.
 */
import { rmSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { runChild, startChild, type Ran } from "../harness/children.ts";
import { freePort, HOST, runKvdb, spawnKvdb } from "../harness/kvdb.ts";
import { REPO, tempDir } from "../harness/paths.ts";
import { Value } from "../src/loadgen/data.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { sample, scrape } from "./prometheus.ts";
import { bootstrapKey } from "../src/ops/keys.ts";

/** `kvdb bench ...args` to completion (killed after 60 s). */
const bench = (args: string[]) => runKvdb(["bench", ...args]);

interface Row {
  workload: string;
  step: string;
  ops: number;
  errors: number;
}

/** The table's rows: "workload  step  ops  ops/s  MB/s  p50 ms  p99 ms  errors" (a step may have a space). */
function rows(stdout: string): Row[] {
  const lines = stdout.split("\n");
  const head = lines.findIndex((l) => /^workload\s+step\s+ops\s+ops\/s\s+MB\/s\s+p50 ms\s+p99 ms\s+errors$/.test(l));
  assert.ok(head >= 0, `a table header in:\n${stdout}`);
  const out: Row[] = [];
  for (const line of lines.slice(head + 1)) {
    const m = /^(\S+)\s+(.+?)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)$/.exec(line);
    if (!m) break;
    out.push({ workload: m[1], step: m[2], ops: Number(m[3]), errors: Number(m[8]) });
  }
  return out;
}

function assertClean(r: Ran, expected: [string, string][], most: number): void {
  assert.is(r.code, 0, `exit code; stderr:\n${r.stderr}`);
  assert.is(r.stderr, "", "nothing on stderr");
  assert.match(r.stdout, /^kvdb bench master=http:\/\/127\.0\.0\.1:\d+ /);
  const table = rows(r.stdout);
  assert.equal(
    table.map((t) => `${t.workload} ${t.step}`),
    expected.map(([w, s]) => `${w} ${s}`),
    "one row per workload step",
  );
  for (const t of table) {
    assert.is(t.errors, 0, `${t.workload} ${t.step}: no errors`);
    assert.ok(t.ops > 0 && t.ops <= most, `${t.workload} ${t.step}: ${t.ops} ops, at most ${most}`);
  }
  assert.match(r.stdout, /\nno errors\n$/);
}

let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster();
});

test.after(async () => {
  await cluster?.close();
});

const SMALL_ROWS: [string, string][] = [
  ["thrash", "cycle"],
  ["thrash", "put"],
  ["thrash", "get 302"],
  ["thrash", "read"],
  ["thrash", "delete"],
  ["redirect", "get 302"],
  ["missing", "get 404"],
];

test("thrash, missing, redirect: exit 0, a table with every step, no errors", async () => {
  const r = await bench(["--master", cluster.url, "--workload", "thrash,missing,redirect", "--count", "50", "--seconds", "5", "--concurrency", "4"]);
  assertClean(r, SMALL_ROWS, 50);
});

const LARGE_ROWS: [string, string][] = ["cycle", "put", "get 302", "read", "delete"].map((step) => ["large", step]);

test("large (8 MiB, streamed, checked byte for byte): exit 0, no errors", async () => {
  const r = await bench(["--master", cluster.url, "--workload", "large", "--large-size", "8MiB", "--count", "2", "--seconds", "5"]);
  assertClean(r, LARGE_ROWS, 2);
  assert.match(r.stdout, /large-size=8 MiB/);
});

const masterReceived = async () => sample((await scrape(cluster.url)).text, 'kvdb_http_received_bytes_total{role="master"}') ?? 0;

test("large with Expect (the default --expect-over): the 307 is followed, the master receives none of the body; --expect-over off: every byte goes through the master", async () => {
  const args = ["--master", cluster.url, "--workload", "large", "--large-size", "8MiB", "--count", "2", "--seconds", "5"];
  const before = await masterReceived();
  assertClean(await bench(args), LARGE_ROWS, 2);
  const direct = (await masterReceived()) - before;
  assert.ok(direct < 2 ** 20, `the master received ${direct} bytes of two direct 8 MiB PUTs`);
  assertClean(await bench([...args, "--expect-over", "off"]), LARGE_ROWS, 2);
  assert.is((await masterReceived()) - before - direct, 2 * 8 * 2 ** 20, "without Expect both bodies go through the master");
});

test("--token: a master with keys answers the bench's requests carrying the token, and refuses them without it", async () => {
  const dir = tempDir("kvdb-bench-keys");
  const token = /^token=(\S+)$/m.exec(await bootstrapKey(join(dir, "master"), "bench", [{ level: "admin" }]))![1];
  const keyed = await startCluster({ dir });
  try {
    const args = ["--master", keyed.url, "--workload", "redirect,missing", "--count", "20", "--seconds", "5", "--concurrency", "2"];
    assertClean(await bench([...args, "--token", token]), [["redirect", "get 302"], ["missing", "get 404"]], 20);
    const refused = await bench(args);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /answered 401/);
  } finally {
    await keyed.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every key the bench stored is gone afterwards", async () => {
  const res = await fetch(`${cluster.url}/kvdb-bench/?list`);
  assert.is(res.status, 200);
  assert.equal(((await res.json()) as { keys: string[] }).keys, []);
});

test("--json: the same results, machine-readable", async () => {
  const r = await bench(["--master", cluster.url, "--workload", "missing,thrash", "--count", "10", "--seconds", "5", "--size", "4KiB", "--json"]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { errors: number; results: { workload: string; steps: { step: string; ops: number; errors: number }[] }[] };
  assert.is(out.errors, 0);
  assert.equal(
    out.results.map((w) => w.workload),
    ["thrash", "missing"],
  );
  const cycle = out.results[0].steps.find((s) => s.step === "cycle")!;
  assert.ok(cycle.ops > 0 && cycle.ops <= 10);
});

test("against `kvdb server` (signed, expiring redirect URLs): exit 0, no errors", async () => {
  const dir = tempDir("kvdb-bench-server");
  const server = await spawnKvdb(["server", dir, "--port", "0", "--host", HOST]);
  try {
    const r = await bench(["--master", server.url, "--workload", "thrash,redirect,missing", "--count", "20", "--seconds", "5", "--concurrency", "2"]);
    assertClean(r, SMALL_ROWS, 20);
  } finally {
    await server.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--existing-keys PREFIX:N: redirect reads those keys (Content-Md5 checked), missing asks between them, nothing stored or deleted", async () => {
  const values = Array.from({ length: 20 }, (_, i) => new Value(`/existing/${i}`, 64));
  for (const v of values) assert.is((await fetch(new URL(v.key, cluster.url), { method: "PUT", body: new Uint8Array(v.whole()) })).status, 201);
  const args = ["--master", cluster.url, "--existing-keys", "/existing/:20", "--count", "100", "--seconds", "5", "--json"];
  const r = await bench([...args, "--workload", "redirect,missing", "--size", "64"]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { errors: number; results: { workload: string; steps: { step: string; ops: number }[] }[] };
  assert.is(out.errors, 0);
  assert.equal(out.results.map((w) => w.steps.map((s) => [s.step, s.ops])), [[["get 302", 100]], [["get 404", 100]]]);
  // The values are checked: told the wrong size, every redirect's Content-Md5 is wrong.
  const wrong = await bench([...args, "--size", "65", "--workload", "redirect"]);
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /Content-Md5 [0-9a-f]{32}, but the value's md5 is/);
  const listed = (await (await fetch(`${cluster.url}/existing/?list`)).json()) as { keys: string[] };
  assert.is(listed.keys.length, 20);
  for (const v of values) assert.is((await fetch(new URL(v.key, cluster.url), { method: "DELETE" })).status, 204);
});

const usageErrors: [string, string[], RegExp][] = [
  ["--existing-keys without a count", ["--existing-keys", "/scale/"], /existing-keys/],
  ["--existing-keys with a count of 0", ["--existing-keys", "/scale/:0"], /existing-keys/],
  ["an unknown workload", ["--workload", "thrash,bogus"], /workload/],
  ["concurrency 0", ["--concurrency", "0"], /concurrency/],
  ["a concurrency that is not a number", ["--concurrency", "many"], /concurrency/],
  ["a size with an unknown unit", ["--size", "12XB"], /size/],
  ["a zero large size", ["--large-size", "0"], /large-size/],
  ["an --expect-over that is not a size", ["--expect-over", "soon"], /expect-over/],
  ["a count that is not a number", ["--count", "abc"], /count/],
  ["negative seconds", ["--seconds=-1"], /seconds/],
  ["zero seconds", ["--seconds", "0"], /seconds/],
  ["a master that is not this machine", ["--master", "http://192.0.2.1:3000"], /allow-remote/],
  ["a master that is not http", ["--master", "ftp://127.0.0.1:3000"], /http/],
  ["an unknown flag", ["--bogus"], /bogus/],
];

for (const [what, args, mentions] of usageErrors) {
  test(`bench with ${what}: exit 2, one "kvdb:" line on stderr`, async () => {
    const r = await bench(args);
    assert.is(r.code, 2, `exit code for kvdb bench ${args.join(" ")}: ${r.stderr}`);
    assert.is(r.stdout, "");
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.is(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert.match(lines[0], /^kvdb: /);
    assert.match(lines[0], mentions);
    assert.not.match(r.stderr, /\n\s+at /);
  });
}

test("a master nobody listens on: exit 1, one line", async () => {
  const port = await freePort();
  const r = await bench(["--master", `http://${HOST}:${port}`, "--workload", "missing", "--count", "1"]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^kvdb: cannot reach the master at http:\/\/127\.0\.0\.1:\d+: .+\n$/);
});

/** `npm run bench`'s own options (bench/run.ts): a bad one is refused before anything starts. */
for (const args of [["--peers", "nope"], ["--workloads", "thrash,bogus"], ["--seconds", "0"]]) {
  test(`npm run bench -- ${args.join(" ")}: exit 2, one line`, async () => {
    const r = await runChild([process.execPath, join(REPO, "dist", "node", "bench", "run.js"), ...args], { timeoutMs: 30_000 });
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /^bench: --seconds must be in \(0, 60\], .*--peers minikeyvalue or none, --workloads a list of thrash,thrash1m,.*\n$/);
    assert.is(r.stdout, "");
  });
}

test("the bare Hono ceiling (bench/hono-server.ts) answers a stored key with the master's 302 headers, and 404 otherwise", async () => {
  const { child, match } = await startChild([process.execPath, join(REPO, "dist", "node", "bench", "hono-server.js")], /port=(\d+)/);
  try {
    const hono = `http://${HOST}:${match[1]}`;
    const value = "x".repeat(1024);
    for (const base of [hono, cluster.url]) assert.is((await fetch(`${base}/bench-hono/k`, { method: "PUT", body: value })).status, 201, base);
    const [bare, master] = await Promise.all([hono, cluster.url].map((base) => fetch(`${base}/bench-hono/k`, { redirect: "manual" })));
    assert.is(bare.status, 302);
    assert.is(master.status, 302);
    const names = (r: Response) => [...r.headers.keys()].filter((k) => !["date", "connection", "keep-alive"].includes(k)).sort();
    assert.equal(names(bare), names(master));
    assert.is(bare.headers.get("content-md5"), master.headers.get("content-md5"));
    assert.is(bare.headers.get("content-length"), "0");
    const missing = await fetch(`${hono}/bench-hono/never-stored`);
    assert.is(missing.status, 404);
    assert.is(missing.headers.get("content-length"), "0");
    assert.is((await fetch(`${cluster.url}/bench-hono/k`, { method: "DELETE" })).status, 204);
  } finally {
    await child.stop();
  }
});

test.run();
