/**
 * Several masters on one PostgreSQL index (docs/MASTERS.md): the database
 * decides between them, every answer is the one a single master would give, long jobs
 * run once cluster-wide, the index moves over from LevelDB, and a database kvdb cannot
 * use is refused clearly. Real PostgreSQL, real masters and volumes on 127.0.0.1, each
 * its own process.
 */
import { rmSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keyPath } from "../src/keys/keys.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { MasterServer } from "../harness/servers.ts";
import { askToWrite, bytes, md5 } from "./http.ts";
import { freshDatabase, type Postgres } from "../harness/postgres.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { SCHEMA_VERSION } from "../src/master/index/pg-schema.ts";
import { until } from "../harness/until.ts";

let c: Cluster;
let pg: Postgres;

test.before(async () => {
  c = await startCluster({ runtime: "node", masters: 2, replicas: 3 });
  pg = c.pg!;
});

test.after(async () => {
  await c?.close();
});

const [A, B] = [0, 1].map((i) => () => c.masters[i].url);

async function call(base: string, key: string, method: string, body?: string | Buffer): Promise<Response> {
  const res = await fetch(base + keyPath(key), { method, body: body as BodyInit, redirect: "manual" });
  await res.arrayBuffer();
  return res;
}

/** The value behind a GET on `base`: status and, if 302, the bytes the redirect gives. */
async function read(base: string, key: string): Promise<{ status: number; body?: string }> {
  const res = await call(base, key, "GET");
  if (res.status !== 302) return { status: res.status };
  return { status: 302, body: await (await fetch(res.headers.get("location")!)).text() };
}

/** The md5 of what a GET on `base` gives for `key` after its 302, or the status if not 302. */
async function servedMd5(base: string, key: string): Promise<string | number> {
  const located = await call(base, key, "GET");
  if (located.status !== 302) return located.status;
  return md5(Buffer.from(await (await fetch(located.headers.get("location")!)).arrayBuffer()));
}

/**
 * `rounds` rounds of 50 concurrent PUTs of one key over both masters, `put` sending the
 * i-th value: exactly one 201, the rest 409, and both masters serve the winner's bytes.
 */
async function racePuts(name: string, rounds: number, value: (round: number, i: number) => Buffer, put: (base: string, key: string, body: Buffer) => Promise<{ status: number; md5?: string | null }>) {
  for (let round = 0; round < rounds; round++) {
    const key = `/race/${name}${round}`;
    const answers = await Promise.all(Array.from({ length: 50 }, async (_, i) => ({ i, ...(await put(i % 2 ? B() : A(), key, value(round, i))) })));
    const won = answers.filter((a) => a.status === 201);
    assert.is(won.length, 1, `round ${round}: ${JSON.stringify(answers.map((a) => a.status))}`);
    assert.equal(
      answers.filter((a) => a.status !== 201).map((a) => a.status),
      Array(49).fill(409),
    );
    const winner = md5(value(round, won[0].i));
    assert.is(won[0].md5, winner);
    for (const base of [A(), B()]) assert.is(await servedMd5(base, key), winner);
  }
}

test("50 concurrent PUTs of one key over two masters: exactly one 201, the rest 409, and both masters serve the winner's bytes", () =>
  racePuts("k", 5, (round, i) => Buffer.from(`value ${i} of round ${round}`), async (base, key, body) => {
    const res = await call(base, key, "PUT", body);
    return { status: res.status, md5: res.headers.get("content-md5") };
  }));

test("50 concurrent large PUTs of one key sent with Expect: 100-continue over two masters (direct writes): exactly one 201, the rest 409", () =>
  racePuts("direct", 2, (round, i) => bytes((1 << 20) + 100, 1000 * round + i), async (base, key, body) => {
    const asked = await askToWrite(base, key, body.length);
    if (asked.status !== 307) return { status: asked.status };
    const res = await fetch(asked.location!, { method: "PUT", body: body as BodyInit });
    await res.arrayBuffer();
    return { status: res.status, md5: res.headers.get("content-md5") };
  }));

test("10 concurrent DELETEs of one key over two masters: exactly one 204, and the key is gone on both", async () => {
  assert.is((await call(A(), "/race/del", "PUT", "to delete")).status, 201);
  const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? B() : A(), "/race/del", "DELETE").then((r) => r.status)));
  assert.is(statuses.filter((s) => s === 204).length, 1, JSON.stringify(statuses));
  assert.ok(statuses.every((s) => s === 204 || s === 404), JSON.stringify(statuses));
  for (const base of [A(), B()]) assert.is((await call(base, "/race/del", "GET")).status, 404);
});

test("read your writes across masters: a 201, 204 or UNLINK on one master is seen by the other's very next request", async () => {
  for (let i = 0; i < 40; i++) {
    const [w, r] = i % 2 ? [B(), A()] : [A(), B()];
    const key = `/ryw/k${i}`;
    assert.is((await call(w, key, "PUT", `v${i}`)).status, 201);
    assert.equal(await read(r, key), { status: 302, body: `v${i}` });
    assert.is((await call(r, key, "PUT", "again")).status, 409);
    if (i % 4 === 0) {
      assert.is((await call(r, key, "UNLINK")).status, 204);
      assert.is((await call(w, key, "GET")).status, 404);
      const unlinked = (await (await fetch(`${w}/ryw/?unlinked`)).json()) as { keys: string[] };
      assert.ok(unlinked.keys.includes(key));
    }
    assert.is((await call(r, key, "DELETE")).status, 204);
    assert.is((await call(w, key, "GET")).status, 404);
    assert.is((await call(w, key, "DELETE")).status, 404);
  }
});

test("listing pages the same on both masters, in byte order of the UTF-8 key", async () => {
  const keys = ["/order/a", "/order/B", "/order/é", "/order/z", "/order/ä", "/order/ab", "/order/日本", "/order/~"];
  for (const k of keys) assert.is((await call(A(), k, "PUT", k)).status, 201);
  const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const walked: string[] = [];
  let start = "";
  for (let page = 0; page < 10; page++) {
    const base = page % 2 ? B() : A();
    const res = await fetch(`${base}/order/?list&limit=3${start ? `&start=${encodeURIComponent(start)}` : ""}`);
    const body = (await res.json()) as { keys: string[]; next: string };
    walked.push(...body.keys);
    if (!body.next) break;
    start = body.next;
  }
  assert.equal(walked, sorted);
});

test("a long job runs once cluster-wide: both masters started together get the same job, and either reports its progress", async () => {
  for (let i = 0; i < 120; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => call(A(), `/jobs/k${i + j}`, "PUT", `job value ${i + j}`)));
  }
  const started = await Promise.all([A(), B()].map((base) => fetch(`${base}/_kvdb/jobs/verify`, { method: "POST" })));
  const jobs = (await Promise.all(started.map((r) => r.json()))) as { id: string }[];
  assert.equal(
    started.map((r) => r.status),
    [202, 202],
  );
  assert.is(jobs[0].id, jobs[1].id, "one job");
  const view = async (base: string) => (await (await fetch(`${base}/_kvdb/jobs/${jobs[0].id}`)).json()) as { state: string; done: number; total: number; ok: boolean };
  await until("the job is done, as the other master reports it", async () => (await view(B())).state === "done" && (await view(A())).state === "done", 30_000);
  for (const base of [A(), B()]) {
    const v = await view(base);
    assert.is(v.ok, true);
    assert.is(v.done, v.total);
    assert.ok(v.total >= 120);
  }
  const listed = (await (await fetch(`${B()}/_kvdb/jobs`)).json()) as { id: string }[];
  assert.ok(listed.some((j) => j.id === jobs[0].id));
});

test("masters under Deno and Bun share the index with Node's: a PUT on one is read and deleted on the others", async () => {
  const env = { DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" };
  const others: MasterServer[] = [];
  try {
    for (const runtime of ["deno", "bun"] as const) others.push(await new MasterServer(c.db, () => c.volumes.map((v) => v.name), { runtime, env, readyTimeoutMs: 30_000 }).start());
    const [deno, bun] = others.map((o) => o.url);
    assert.is((await call(A(), "/runtimes/k", "PUT", "from node")).status, 201);
    assert.equal(await read(deno, "/runtimes/k"), { status: 302, body: "from node" });
    assert.equal(await read(bun, "/runtimes/k"), { status: 302, body: "from node" });
    assert.is((await call(deno, "/runtimes/k", "PUT", "from deno")).status, 409);
    assert.is((await call(bun, "/runtimes/k", "DELETE")).status, 204);
    assert.is((await call(deno, "/runtimes/k", "GET")).status, 404);
    assert.is((await call(deno, "/runtimes/d", "PUT", "from deno")).status, 201);
    assert.equal(await read(bun, "/runtimes/d"), { status: 302, body: "from deno" });
  } finally {
    for (const o of others) assert.is(await o.stop("SIGTERM"), 0, o.child.output());
  }
});

test("a database kvdb cannot use is refused clearly: another URL scheme (exit 2), an unreachable server, a newer schema (exit 1)", async () => {
  const volumes = c.volumes.map((v) => v.name).join(",");
  const ftp = await runKvdb(["master", "--volumes", volumes, "--db", "mysql://kvdb@127.0.0.1/kvdb", "--port", "0"]);
  assert.is(ftp.code, 2);
  assert.is(ftp.stderr, "kvdb: db: kvdb cannot use a mysql:// URL; give a directory (LevelDB) or postgres://user@host:port/dbname\n");
  const closed = await runKvdb(["master", "--volumes", volumes, "--db", "postgres://kvdb@127.0.0.1:1/kvdb", "--port", "0"]);
  assert.is(closed.code, 1);
  assert.match(closed.stderr, /^kvdb: cannot open the index at postgres:\/\/kvdb@127\.0\.0\.1:1\/kvdb: .*ECONNREFUSED/);

  const newer = freshDatabase(pg);
  const first = await runKvdb(["rebuild", "--volumes", volumes, "--db", newer]); // creates the schema
  assert.is(first.code, 0, first.stderr);
  pg.psql("UPDATE kvdb_meta SET value = '99' WHERE name = 'schema'", new URL(newer).pathname.slice(1));
  const refused = await runKvdb(["master", "--volumes", volumes, "--db", newer, "--port", "0"]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, new RegExp(String.raw`^kvdb: the index at postgres://\S+ has schema version 99, newer than this kvdb's \(${SCHEMA_VERSION}\): upgrade kvdb`));
});

test("migrate-index copies a LevelDB index into PostgreSQL and checks it key for key; rebuild into PostgreSQL refuses while a master runs on it", async () => {
  const level = await startCluster({ volumes: 2, replicas: 2 });
  const db = freshDatabase(pg);
  try {
    for (let i = 0; i < 30; i++) assert.is((await call(level.url, `/migrate/k${i}`, "PUT", `migrated ${i}`)).status, 201);
    assert.is((await call(level.url, "/migrate/k3", "UNLINK")).status, 204);
    await level.master.stop();
    const moved = await runKvdb(["migrate-index", "--from", `${level.dir}/master`, "--to", db]);
    assert.is(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /^migrate-index: 30 keys and 0 orphans \(and 1 table entries: S3 buckets and uploads, client keys, settings\) copied from \S+ to postgres:\/\/\S+ and checked key for key in [\d.]+ s\n$/);

    const volumes = level.volumes.map((v) => v.name).join(",");
    const master = await new MasterServer(db, () => level.volumes.map((v) => v.name), { runtime: "node" }).start();
    try {
      for (let i = 0; i < 30; i++) {
        assert.equal(await read(master.url, `/migrate/k${i}`), i === 3 ? { status: 404 } : { status: 302, body: `migrated ${i}` });
      }
      const busy = await runKvdb(["rebuild", "--volumes", volumes, "--db", db]);
      assert.is(busy.code, 1);
      assert.match(busy.stderr, /1 master\(s\) still running on postgres:\/\/\S+: stop them first/);
    } finally {
      assert.is(await master.stop("SIGTERM"), 0);
    }
    const rebuilt = await runKvdb(["rebuild", "--volumes", volumes, "--db", db]);
    assert.is(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, /^rebuild: 30 keys from 60 replicas on 2 volumes/);
  } finally {
    await Promise.all(level.volumes.map((v) => v.stop()));
    rmSync(level.dir, { recursive: true, force: true });
  }
});

test("keys by state on PostgreSQL: the metrics count, in the database, what every master wrote, as the listings show it", async () => {
  for (const k of ["a", "b", "c"]) assert.is((await call(A(), `/counted/${k}`, "PUT", k)).status, 201);
  assert.is((await call(B(), "/counted/b", "UNLINK")).status, 204);
  const listed = async (query: string) => ((await (await fetch(`${A()}/${query}`)).json()) as { keys: string[] }).keys.length;
  const [live, unlinked] = [await listed("?list"), await listed("?unlinked")];
  assert.ok(live >= 2 && unlinked >= 1);
  // The first scrape of this master counts (later ones may lag a few seconds: index.ts, counts()).
  const text = await (await fetch(`${B()}/_kvdb/metrics`)).text();
  const sample = (state: string) => Number(text.split("\n").find((l) => l.startsWith(`kvdb_keys{state="${state}"} `))?.split(" ")[1]);
  assert.equal([sample("live"), sample("unlinked"), sample("writing"), sample("deleting")], [live, unlinked, 0, 0]);
});

test.run();
