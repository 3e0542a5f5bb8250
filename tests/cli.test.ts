/**
 * The command line: help, usage errors (exit 2, one `kvdb:` line, no stack trace),
 * positional arguments, environment variables and --verbose, all by running the
 * compiled `kvdb` as a child process.
 */
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { freePort, HOST, runKvdb, spawnKvdb, type KvdbServer } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { until } from "../harness/until.ts";

/** Runs `kvdb ...args` to completion (killed after 10 s). */
const run = (args: string[], env: Record<string, string> = {}) => runKvdb(args, env, 10_000);

/** A port nobody listens on right now. */
/** Runs `fn` with `children` started by it, then kills them all and removes `dirs`. */
async function withChildren(dirs: string[], fn: (children: KvdbServer[]) => Promise<void>): Promise<void> {
  const children: KvdbServer[] = [];
  try {
    await fn(children);
  } finally {
    await Promise.all(children.map((ch) => ch.stop("SIGKILL")));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

for (const [args, usage] of [
  [["--help"], "$ kvdb <command> [options]"],
  [["master", "--help"], "$ kvdb master [volumes] [db]"],
  [["volume", "--help"], "$ kvdb volume [dir]"],
  [["server", "--help"], "$ kvdb server [dir]"],
] as const) {
  test(`kvdb ${args.join(" ")}: usage on stdout, exit 0`, async () => {
    const r = await run([...args]);
    assert.is(r.code, 0);
    assert.ok(r.stdout.includes("Usage:"), r.stdout);
    assert.ok(r.stdout.includes(usage), r.stdout);
    assert.is(r.stderr, "");
  });
}

test("kvdb master --help lists every option with its env var", async () => {
  const r = await run(["master", "--help"]);
  for (const s of ["--volumes", "KVDB_VOLUMES", "--db", "KVDB_DB", "--port", "PORT", "--replicas", "KVDB_REPLICAS", "--proxy", "--verbose", "--host"]) {
    assert.ok(r.stdout.includes(s), `help mentions ${s}`);
  }
});

const usageErrors: [string, string[], RegExp][] = [
  ["an unknown flag", ["master", "--bogus", "x"], /bogus/],
  ["an unknown volume flag", ["volume", "/tmp/kvdb-never", "--bogus"], /bogus/],
  ["a port that is not a number", ["master", "--volumes", "127.0.0.1:1", "--db", "/tmp/kvdb-never", "--port", "abc"], /port/],
  ["a port over 65535", ["master", "--volumes", "127.0.0.1:1", "--db", "/tmp/kvdb-never", "--port", "70000"], /port/],
  ["a volume port over 65535", ["volume", "/tmp/kvdb-never", "--port", "70000"], /port/],
  ["more replicas than volumes", ["master", "--volumes", "127.0.0.1:1,127.0.0.1:2", "--db", "/tmp/kvdb-never", "--replicas", "3"], /replicas/],
  ["zero replicas", ["master", "--volumes", "127.0.0.1:1", "--db", "/tmp/kvdb-never", "--replicas", "0"], /replicas/],
  ["no db", ["master", "--volumes", "127.0.0.1:1"], /db/],
  ["no volumes", ["master", "--db", "/tmp/kvdb-never"], /volumes/],
  ["a volume that is not host:port", ["master", "--volumes", "nonsense", "--db", "/tmp/kvdb-never"], /volumes/],
  ["an unknown command", ["frobnicate"], /frobnicate/],
  ["an --inline-max over 1MiB", ["volume", "/tmp/kvdb-never", "--inline-max", "2MiB"], /inline-max/],
  ["--tls-cert without --tls-key", ["volume", "/tmp/kvdb-never", "--tls-cert", "/tmp/kvdb-never.pem"], /both --tls-cert and --tls-key/],
  ["a --tls-ca that cannot be read", ["status", "--tls-ca", "/tmp/kvdb-never/ca.pem"], /tls: cannot read the CA file \/tmp\/kvdb-never\/ca\.pem/],
];

for (const [what, args, mentions] of usageErrors) {
  test(`${what}: exit 2, one "kvdb:" line on stderr, no stack trace`, async () => {
    const r = await run(args);
    assert.is(r.code, 2, `exit code for kvdb ${args.join(" ")}: ${r.stderr}`);
    assert.is(r.stdout, "");
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.is(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert.ok(r.stderr.endsWith("\n"));
    assert.match(lines[0], /^kvdb: /);
    assert.match(lines[0], mentions);
    assert.not.match(r.stderr, /\n\s+at /);
  });
}

test("a port already taken: one line, nonzero exit, no stack trace", async () => {
  const dir = tempDir("kvdb-cli");
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, HOST, r));
  try {
    const { port } = blocker.address() as { port: number };
    const r = await run(["volume", dir, "--port", String(port), "--host", HOST]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /^kvdb: cannot listen: .*EADDRINUSE.*\n$/);
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("positional form: kvdb master host:p1,host:p2 <db> starts with both volumes and 2 replicas", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const [v1, v2] = await Promise.all(
      ["v1", "v2"].map((v) => spawnKvdb(["volume", join(dir, v), "--port", "0", "--host", HOST])),
    );
    ch.push(v1, v2);
    const volumes = `${HOST}:${v1.port},${HOST}:${v2.port}`;
    const m = await spawnKvdb(["master", volumes, join(dir, "db"), "--port", "0", "--host", HOST]);
    ch.push(m);
    const start = m.output().split("\n").find((l) => l.startsWith("kvdb master "))!;
    assert.match(start, ` volumes=${volumes} `);
    assert.match(start, / replicas=2( |$)/);
    assert.match(start, ` db=${join(dir, "db")} `);
    assert.match(start, `url=http://${HOST}:${m.port}`);

    const put = await fetch(`${m.url}/cli/positional`, { method: "PUT", body: "hello" });
    assert.is(put.status, 201);
    assert.is(put.headers.get("key-volumes")!.split(",").sort().join(","), volumes.split(",").sort().join(","));
    const get = await fetch(`${m.url}/cli/positional`);
    assert.is(get.status, 200);
    assert.is(await get.text(), "hello");
  });
});

test("PORT=P kvdb volume <dir> listens on P", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const port = await freePort();
    const v = await spawnKvdb(["volume", dir, "--host", HOST], { PORT: String(port) });
    ch.push(v);
    assert.is(v.port, port);
    assert.match(v.output(), `kvdb volume url=http://${HOST}:${port} dir=${dir} `);
    const res = await fetch(`http://${HOST}:${port}/_kvdb/health`);
    assert.is(res.status, 200);
    assert.is((await res.json()).count, 0);
  });
});

test("kvdb under Node runs with its allocator setting from the shebang, added to the caller's own", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const v = await spawnKvdb(["volume", dir, "--port", "0", "--host", HOST], { GLIBC_TUNABLES: "glibc.malloc.arena_max=4" });
    ch.push(v);
    // glibc splits the value at its colons in place, so the environment block shows a NUL there.
    const environ = readFileSync(`/proc/${v.proc.pid}/environ`, "utf8");
    assert.match(environ, /(^|\0)GLIBC_TUNABLES=glibc\.malloc\.top_pad=16777216[:\0]glibc\.malloc\.arena_max=4\0/);
  });
});

// The default (no option) and the documented ways to set it: docs/COMMANDS.md, "--inline-max".
for (const [what, args, inline] of [
  ["by default", [], true],
  ["with --inline-max 32KiB", ["--inline-max", "32KiB"], true],
  ["with --inline-max 0 (off)", ["--inline-max", "0"], false],
] as const) {
  test(`kvdb volume ${what}: a value of 32KiB ${inline ? "lives in its catalog" : "is a file"}, a larger one in a file`, async () => {
    const dir = tempDir("kvdb-cli");
    await withChildren([dir], async (ch) => {
      const v = await spawnKvdb(["volume", dir, "--port", "0", "--host", HOST, ...args]);
      ch.push(v);
      for (const [key, size] of [["/small", 32 * 1024], ["/large", 32 * 1024 + 1]] as const) {
        const put = await fetch(`${v.url}${key}`, { method: "PUT", body: new Uint8Array(size).fill(7) });
        assert.is(put.status, 201, `${key}: ${await put.text()}`);
      }
      const held = (await (await fetch(`${v.url}/_kvdb/health?counters`)).json()).held;
      const small = { blobs: 1, bytes: 32 * 1024 };
      const large = { blobs: 1, bytes: 32 * 1024 + 1 };
      assert.equal(held, inline ? { inline: small, file: large } : { inline: { blobs: 0, bytes: 0 }, file: { blobs: 2, bytes: small.bytes + large.bytes } });
      const back = Buffer.from(await (await fetch(`${v.url}/small`)).arrayBuffer());
      assert.ok(back.length === 32 * 1024 && back.every((b) => b === 7));
    });
  });
}

test("--port wins over PORT", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const [flagPort, envPort] = [await freePort(), await freePort()];
    const v = await spawnKvdb(["volume", dir, "--host", HOST, "--port", String(flagPort)], { PORT: String(envPort) });
    ch.push(v);
    assert.is(v.port, flagPort);
  });
});

test("KVDB_VOLUMES, KVDB_DB and KVDB_REPLICAS configure a master", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const vols = await Promise.all([0, 1, 2].map((i) => spawnKvdb(["volume", join(dir, `v${i}`), "--port", "0", "--host", HOST])));
    ch.push(...vols);
    const volumes = vols.map((v) => `${HOST}:${v.port}`).join(",");
    const db = join(dir, "envdb");
    const m = await spawnKvdb(["master", "--port", "0", "--host", HOST], { KVDB_VOLUMES: volumes, KVDB_DB: db, KVDB_REPLICAS: "1" });
    ch.push(m);
    const start = m.output().split("\n").find((l) => l.startsWith("kvdb master "))!;
    assert.match(start, ` db=${db} `);
    assert.match(start, ` volumes=${volumes} `);
    assert.match(start, / replicas=1( |$)/);
    const put = await fetch(`${m.url}/cli/env`, { method: "PUT", body: "from env" });
    assert.is(put.status, 201);
    assert.is(put.headers.get("key-volumes")!.split(",").length, 1);
    const get = await fetch(`${m.url}/cli/env`);
    assert.is(await get.text(), "from env");
  });
});

test("a bad KVDB_REPLICAS is a usage error too", async () => {
  const r = await run(["master", "--db", "/tmp/kvdb-never"], { KVDB_VOLUMES: "127.0.0.1:1", KVDB_REPLICAS: "two" });
  assert.is(r.code, 2);
  assert.match(r.stderr, /^kvdb: replicas .*\n$/);
});

test("--verbose logs one line per request: method, key, status", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const v = await spawnKvdb(["volume", join(dir, "v"), "--port", "0", "--host", HOST]);
    ch.push(v);
    const m = await spawnKvdb(["master", "--volumes", `${HOST}:${v.port}`, "--db", join(dir, "db"), "--port", "0", "--host", HOST, "--verbose"]);
    ch.push(m);
    assert.is((await fetch(`${m.url}/verbose/key`, { method: "PUT", body: "12345" })).status, 201);
    const get = await fetch(`${m.url}/verbose/key`, { redirect: "manual" });
    assert.is(get.status, 302);
    assert.is((await fetch(`${m.url}/verbose/missing`)).status, 404);
    assert.is((await fetch(`${m.url}/verbose/key`, { method: "DELETE" })).status, 204);
    const want = [/^master PUT \/verbose\/key 201\b/, /^master GET \/verbose\/key 302\b/, /^master GET \/verbose\/missing 404\b/, /^master DELETE \/verbose\/key 204\b/];
    const lines = () => m.output().split("\n").filter((l) => l.startsWith("master "));
    await until("four request lines", () => lines().length >= 4, 5000);
    const got = lines();
    assert.is(got.length, 4, got.join("\n"));
    want.forEach((re, i) => assert.match(got[i], re));
    // Each line also says bytes and time.
    for (const l of got) assert.match(l, / \S+ \d+(\.\d+)?ms$/);
    assert.match(got[0], / 201 5 /);
  });
});

test("without --verbose: no request lines", async () => {
  const dir = tempDir("kvdb-cli");
  await withChildren([dir], async (ch) => {
    const v = await spawnKvdb(["volume", join(dir, "v"), "--port", "0", "--host", HOST]);
    ch.push(v);
    const m = await spawnKvdb(["master", "--volumes", `${HOST}:${v.port}`, "--db", join(dir, "db"), "--port", "0", "--host", HOST]);
    ch.push(m);
    assert.is((await fetch(`${m.url}/quiet`, { method: "PUT", body: "x" })).status, 201);
    await fetch(`${m.url}/quiet`, { redirect: "manual" });
    assert.is(m.output().split("\n").filter((l) => /^(master|volume) (GET|PUT) /.test(l)).length, 0);
  });
});

test.run();
