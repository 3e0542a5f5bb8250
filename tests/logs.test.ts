/**
 * --log-format json (KVDB_LOG_FORMAT): every line a server prints is one JSON object
 * with time, level, role, msg and its fields; the default stays readable text. Answers
 * of 500 or more are logged with their cause, --verbose or not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { childEnv } from "../harness/children.ts";
import { streamPut } from "../harness/data.ts";
import { freePort, HOST, runKvdb } from "../harness/kvdb.ts";
import { PATHS, REPO, tempDir } from "../harness/paths.ts";
import { until } from "../harness/until.ts";

interface Server {
  proc: ChildProcess;
  url: string;
  lines(): string[];
  stop(): Promise<void>;
}

/** Starts kvdb with `args`; ready once a line of `output` says the master started. */
async function start(args: string[], env: Record<string, string>, started: RegExp): Promise<Server> {
  const proc = spawn(PATHS.kvdbNode, args, { cwd: REPO, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  await until(`kvdb ${args[0]} starts`, () => started.test(out) || proc.exitCode !== null, 20_000);
  assert.is(proc.exitCode, null, out);
  const port = /"role":"master","msg":"started","url":"http:\/\/[^:]+:(\d+)"|^kvdb master url=http:\/\/[^:]+:(\d+)/m.exec(out)!;
  return {
    proc,
    url: `http://${HOST}:${port[1] ?? port[2]}`,
    lines: () => out.split("\n").filter(Boolean),
    async stop() {
      proc.kill("SIGTERM");
      await exited;
    },
  };
}

const dir = tempDir("kvdb-logs");
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("kvdb server --log-format json --verbose: every line is one JSON object; start, request and warning lines carry their fields", async () => {
  const s = await start(["server", join(dir, "json"), "--port", "0", "--host", HOST, "--log-format", "json", "--verbose"], {}, /"role":"master","msg":"started"/);
  try {
    assert.is((await fetch(`${s.url}/logs/k`, { method: "PUT", body: "hello" })).status, 201);
    // Chunked: no Content-Length, yet the line says the bytes the wire carried.
    assert.is((await streamPut(`${s.url}/logs/chunked`, 70_000, { chunked: true, chunk: 10_000 })).status, 201);
    await until("the request lines", () => s.lines().some((l) => l.includes('"path":"/logs/chunked"') && l.includes('"role":"master"')));
  } finally {
    await s.stop();
  }
  const objects = s.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const o of objects) {
    assert.match(String(o.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(["info", "warn", "error"].includes(String(o.level)), JSON.stringify(o));
    assert.ok(["master", "volume"].includes(String(o.role)), JSON.stringify(o));
    assert.type(o.msg, "string");
  }
  const master = objects.find((o) => o.role === "master" && o.msg === "started")!;
  assert.is(master.url, s.url);
  assert.is(master.replicas, 3);
  assert.is(objects.filter((o) => o.role === "volume" && o.msg === "started").length, 3);
  const request = objects.find((o) => o.role === "master" && o.msg === "request" && o.path === "/logs/k")!;
  assert.equal([request.level, request.method, request.status, request.bytes], ["info", "PUT", 201, "5"]);
  const chunked = objects.find((o) => o.role === "master" && o.msg === "request" && o.path === "/logs/chunked")!;
  assert.equal([chunked.status, chunked.bytes], [201, "70000"]);
  assert.ok(objects.some((o) => o.role === "volume" && o.msg === "request" && o.method === "PUT" && o.status === 201));
});

test("KVDB_LOG_FORMAT=json without --verbose: a 503 is logged as an error with its cause; a verify job logs its start and summary", async () => {
  const dead = await freePort();
  const s = await start(["master", `${HOST}:${dead}`, join(dir, "idx"), "--port", "0", "--host", HOST], { KVDB_LOG_FORMAT: "json" }, /"msg":"started"/);
  try {
    const res = await fetch(`${s.url}/logs/k`, { method: "PUT", body: "hello" });
    assert.is(res.status, 503);
    assert.is((await fetch(`${s.url}/_kvdb/jobs/verify`, { method: "POST" })).status, 202);
    await until("the verify summary", () => s.lines().some((l) => l.includes('"msg":"verify: ')));
  } finally {
    await s.stop();
  }
  const objects = s.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(!objects.some((o) => o.msg === "request"), "no request lines without --verbose");
  const error = objects.find((o) => o.level === "error")!;
  assert.equal(
    { msg: error.msg, role: error.role, method: error.method, path: error.path, status: error.status },
    { msg: "only 0 of the 1 replicas' volumes are up", role: "master", method: "PUT", path: "/logs/k", status: 503 },
  );
  assert.ok(objects.some((o) => o.level === "warn" && String(o.msg).startsWith("volumes not answering yet")));
  assert.ok(objects.some((o) => o.msg === "verify started" && o.kind === "verify"));
  const summary = objects.find((o) => String(o.msg).startsWith("verify: 0 keys"))!;
  assert.is(summary.ok, false); // its volume is down
});

test("text by default: the 503 is one readable line on stderr, --verbose or not", async () => {
  const dead = await freePort();
  const s = await start(["master", `${HOST}:${dead}`, join(dir, "idx2"), "--port", "0", "--host", HOST], {}, /^kvdb master url=/m);
  try {
    assert.is((await fetch(`${s.url}/logs/k`, { method: "PUT", body: "hello" })).status, 503);
    await until("the error line", () => s.lines().some((l) => l.includes("status=503")));
  } finally {
    await s.stop();
  }
  assert.ok(s.lines().includes("kvdb master: only 0 of the 1 replicas' volumes are up method=PUT path=/logs/k status=503"), s.lines().join("\n"));
});

test("--log-format yaml: one line on stderr, exit 2", async () => {
  const r = await runKvdb(["volume", join(dir, "v"), "--log-format", "yaml"]);
  assert.is(r.code, 2);
  assert.is(r.stderr, 'kvdb: log-format must be text or json (got "yaml")\n');
});

test.run();
