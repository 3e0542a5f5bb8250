/**
 * Operations: `kvdb rebuild` (offline, from the volumes' catalogs), `kvdb rebalance`
 * (online, after volumes were added or removed) and `kvdb verify [--repair]`, each run
 * as the real CLI against real servers.
 */
import { ClassicLevel } from "classic-level";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keyPath } from "../src/keys/keys.ts";
import type { KeyRecord } from "../src/master/index/index.ts";
import { openIndex } from "../src/master/index/open.ts";
import { rank } from "../src/keys/placement.ts";
import { blobPath } from "../src/keys/keys.ts";
import { runKvdb as cli } from "../harness/kvdb.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { tempDir } from "../harness/paths.ts";
import { locate, md5 } from "./http.ts";
import { until } from "../harness/until.ts";

type Vol = VolumeServer;

function volume(dir: string, secret?: string, port = 0): Promise<Vol> {
  return new VolumeServer(dir, { secret }).start(port);
}

/**
 * Bit rot of an inline value: stops `v`, flips the first byte of `key`'s bytes in its
 * catalog (the `inline` sublevel, src/volume/catalog.ts) and starts it again on its port.
 */
async function rotInline(v: Vol, key: string): Promise<Vol> {
  await v.stop();
  const db = new ClassicLevel<string, Uint8Array>(join(v.dir, "catalog"));
  const inline = db.sublevel<string, Uint8Array>("inline", { valueEncoding: "view" });
  try {
    const bytes = await inline.get(key);
    assert.ok(bytes, `${key} is inline on ${v.name}`);
    bytes![0] ^= 0xff;
    await inline.put(key, bytes!);
  } finally {
    await db.close();
  }
  return v.restart();
}

function volumesIn(dir: string, ids: number[]): Promise<Vol[]> {
  return Promise.all(ids.map((i) => volume(join(dir, `v${i}`))));
}

function master(volumes: Vol[], db: string, replicas: number, port = 0, secret?: string): Promise<MasterServer> {
  return new MasterServer(db, () => volumes.map((v) => v.name), { replicas, secret }).start(port);
}


function value(i: number): Buffer {
  // Sizes from 1 byte to ~40 KiB, content unique per key: most values are inline in the
  // volumes' catalogs (up to 32 KiB, src/volume/store.ts), the rest files, so rebuild,
  // rebalance and verify meet both forms.
  const size = 1 + ((i * 7919) % 40_000);
  const b = Buffer.alloc(size);
  for (let o = 0; o < size; o += 16) createHash("md5").update(`v${i}:${o}`).digest().copy(b, o);
  return b;
}

const keyOf = (i: number) => `/ops/k${String(i).padStart(4, "0")}${i % 7 === 0 ? " with space" : ""}`;

async function putAll(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, n - i) }, async (_, j) => {
        const res = await fetch(`${url}${keyPath(keyOf(i + j))}`, { method: "PUT", body: new Uint8Array(value(i + j)) });
        assert.is(res.status, 201, `PUT ${keyOf(i + j)}`);
      }),
    );
  }
}

async function readsOk(url: string, i: number): Promise<boolean> {
  const res = await fetch(`${url}${keyPath(keyOf(i))}`);
  const body = Buffer.from(await res.arrayBuffer());
  return res.status === 200 && md5(body) === md5(value(i));
}

async function dump(db: string): Promise<Map<string, KeyRecord>> {
  const index = await openIndex(db);
  try {
    const records = new Map<string, KeyRecord>();
    for await (const [key, record] of index.scan()) records.set(key, record);
    return records;
  } finally {
    await index.close();
  }
}

async function volumesView(url: string): Promise<{ name: string; up: boolean; weight: number }[]> {
  return (await fetch(`${url}/_kvdb/volumes`)).json() as Promise<{ name: string; up: boolean; weight: number }[]>;
}

const N = 240;

test("rebuild: a deleted index is rebuilt from the volumes, record for record, and serves the same bytes", async () => {
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1, 2]);
  const db = join(dir, "master");
  let m = await master(vols, db, 2);
  try {
    await putAll(m.url, N);
    // An unlinked-then-deleted key and a deleted one leave nothing behind on the volumes.
    assert.is((await fetch(`${m.url}${keyPath(keyOf(0))}`, { method: "DELETE" })).status, 204);
    await m.stop();
    const before = await dump(db);
    assert.is(before.size, N - 1);
    rmSync(db, { recursive: true, force: true });

    const r = await cli(["rebuild", "--volumes", vols.map((v) => v.name).join(","), "--db", db, "--replicas", "2"]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /rebuild: 239 keys from 478 replicas on 3 volumes .*keys\/s\); index at/);
    const after = await dump(db);
    assert.is(after.size, before.size);
    for (const [key, rec] of before) {
      const got = after.get(key);
      assert.ok(got, `${key} rebuilt`);
      assert.equal([...got!.volumes].sort(), [...rec.volumes].sort(), `${key} volumes`);
      assert.is(got!.size, rec.size);
      assert.is(got!.md5, rec.md5);
      assert.is(got!.state, "live");
      assert.is(got!.owed, undefined, `${key}: on its --replicas 2 volumes, owed none`);
    }
    m = await master(vols, db, 2);
    for (let i = 1; i < N; i++) assert.ok(await readsOk(m.url, i), `read ${keyOf(i)} after rebuild`);
    assert.is((await fetch(`${m.url}${keyPath(keyOf(0))}`)).status, 404);

    // Rebuilding while the master runs is refused: the index is the master's alone.
    const locked = await cli(["rebuild", "--volumes", vols.map((v) => v.name).join(","), "--db", db]);
    assert.is(locked.code, 1);
    assert.match(locked.stderr, /master still running/);
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rebuild: replicas that disagree keep the majority and the odd one is reported", async () => {
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1, 2]);
  const db = join(dir, "master");
  const m = await master(vols, db, 3);
  try {
    await putAll(m.url, 5);
    await m.stop();
    // Overwrite one replica of key 1 directly on its volume with other bytes.
    const res = await fetch(`http://${vols[2].name}${keyPath(keyOf(1))}`, { method: "PUT", body: "something else" });
    assert.is(res.status, 201);
    rmSync(db, { recursive: true, force: true });
    const r = await cli(["rebuild", "--volumes", vols.map((v) => v.name).join(","), "--db", db]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /disagrees/);
    assert.match(r.stdout, /1 disagreeing replica/);
    const rec = (await dump(db)).get(keyOf(1))!;
    assert.equal([...rec.volumes].sort(), [vols[0].name, vols[1].name].sort());
    assert.is(rec.md5, md5(value(1)));
    // Two agreeing replicas of --replicas 3 (the default on 3 volumes): the third is owed.
    assert.is(rec.owed, 1);
    assert.match(r.stdout, /, 1 key\(s\) on fewer than 3 volumes owed replicas;/);
  } finally {
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rebalance: after adding a volume every key ends on its placement, ~1/4 of replicas move, reads never fail; then after removing one", async () => {
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1, 2, 3]);
  const db = join(dir, "master");
  let m = await master(vols.slice(0, 3), db, 2);
  try {
    await putAll(m.url, N);
    const port = m.port;
    await m.stop();
    m = await master(vols, db, 2, port); // a volume was added

    // Reads keep working while keys move.
    let reading = true;
    let reads = 0;
    const failures: string[] = [];
    const reader = (async () => {
      for (let i = 0; reading; i = (i + 1) % N) {
        if (!(await readsOk(m.url, i))) failures.push(keyOf(i));
        reads++;
      }
    })();
    const r = await cli(["rebalance", "--master", m.url]);
    reading = false;
    await reader;
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.equal(failures, [], "no read failed during the rebalance");
    assert.ok(reads > 0);
    const frac = /(\d+) replicas copied, ([\d.]+)% of replicas/.exec(r.stdout);
    assert.ok(frac, r.stdout);
    const pct = Number(frac![2]);
    assert.ok(pct > 15 && pct < 35, `about 1/4 of the replicas moved (${pct}%)`);

    const view = await volumesView(m.url);
    const records = await fetch(`${m.url}/ops/?list&limit=10000`).then((res) => res.json() as Promise<{ keys: string[] }>);
    assert.is(records.keys.length, N);
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${m.url}${keyPath(keyOf(i))}`, { redirect: "manual" });
      await res.arrayBuffer();
      const got = (res.headers.get("key-volumes") ?? "").split(",").sort();
      assert.equal(got, rank(keyOf(i), view).slice(0, 2).sort(), `${keyOf(i)} on its placement`);
    }
    // The old replicas are gone: exactly 2 copies of each key remain.
    const counts = await Promise.all(vols.map(async (v) => ((await (await fetch(`http://${v.name}/_kvdb/health`)).json()) as { count: number }).count));
    assert.is(counts.reduce((a, b) => a + b, 0), 2 * N);

    // A second run has nothing to do.
    const again = await cli(["rebalance", "--master", m.url]);
    assert.is(again.code, 0);
    assert.match(again.stdout, / 0 moved/);

    // Now remove vols[1]: restart the master without it (it keeps running as a source).
    await m.stop();
    const remaining = vols.filter((_, i) => i !== 1);
    m = await master(remaining, db, 2, port);
    const r2 = await cli(["rebalance", "--master", m.url]);
    assert.is(r2.code, 0, r2.stdout + r2.stderr);
    const view2 = await volumesView(m.url);
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${m.url}${keyPath(keyOf(i))}`, { redirect: "manual" });
      await res.arrayBuffer();
      const got = (res.headers.get("key-volumes") ?? "").split(",").sort();
      assert.equal(got, rank(keyOf(i), view2).slice(0, 2).sort(), `${keyOf(i)} off the removed volume`);
      assert.ok(await readsOk(m.url, i));
    }
    const removed = ((await (await fetch(`http://${vols[1].name}/_kvdb/health`)).json()) as { count: number }).count;
    assert.is(removed, 0, "the removed volume's copies were deleted");
    const v = await cli(["verify", "--master", m.url]);
    assert.is(v.code, 0, v.stdout + v.stderr);
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("verify: finds a corrupt and a missing replica, exits 1; the bad copy is never redirected to; --repair fixes both and exits 0", async () => {
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1, 2]);
  const db = join(dir, "master");
  const m = await master(vols, db, 2);
  try {
    await putAll(m.url, 20);
    const clean = await cli(["verify", "--master", m.url]);
    assert.is(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /verify: 20 keys, 0 missing, 0 corrupt.*all well/);

    const where = (i: number) => locate(m.url, keyOf(i));
    // Bit rot in one replica of key 3 (inline) and of key 10 (a file); one replica of key 5 (a file) deleted.
    assert.equal([3, 5, 10].map((i) => value(i).length > 32 << 10), [false, true, true], "the forms this test means");
    const k3 = await where(3);
    const i3 = vols.findIndex((v) => v.name === k3.volumes[0]);
    vols[i3] = await rotInline(vols[i3], keyOf(3));
    const k10 = await where(10);
    const rotted10 = vols.find((v) => v.name === k10.volumes[0])!;
    const file = join(rotted10.dir, "blobs", blobPath(keyOf(10)));
    const bytes = readFileSync(file);
    bytes[0] ^= 0xff;
    writeFileSync(file, bytes);
    const k5 = await where(5);
    const lost = vols.find((v) => v.name === k5.volumes[1])!;
    rmSync(join(lost.dir, "blobs", blobPath(keyOf(5))));

    const found = await cli(["verify", "--master", m.url], { KVDB_MASTER: "" });
    assert.is(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, /1 missing, 2 corrupt/);
    assert.match(found.stderr, /md5/);
    // Known bad: out of the record, so GET never redirects there.
    for (const [i, rotted] of [[3, vols[i3]], [10, rotted10]] as const) {
      for (let j = 0; j < 10; j++) {
        const w = await where(i);
        assert.not.ok(w.volumes.includes(rotted.name));
        assert.not.ok(w.location.includes(rotted.name));
      }
      assert.ok(await readsOk(m.url, i));
    }

    const fixed = await cli(["verify", "--repair"], { KVDB_MASTER: m.url });
    assert.is(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.match(fixed.stdout, /3 replicas re-copied/);
    for (const i of [3, 5, 10]) assert.is((await where(i)).volumes.length, 2);
    const after = await cli(["verify", "--master", m.url]);
    assert.is(after.code, 0, after.stdout + after.stderr);
    for (let i = 0; i < 20; i++) assert.ok(await readsOk(m.url, i));
    // Every replica's bytes are right again, on disk (files) and as each volume serves them (both forms).
    for (const i of [3, 5, 10]) {
      for (const name of (await where(i)).volumes) {
        const v = vols.find((x) => x.name === name)!;
        if (i !== 3) assert.is(md5(readFileSync(join(v.dir, "blobs", blobPath(keyOf(i))))), md5(value(i)));
        const res = await fetch(`${v.url}${keyPath(keyOf(i))}`);
        assert.is(md5(Buffer.from(await res.arrayBuffer())), md5(value(i)), `${keyOf(i)} on ${name}`);
      }
    }
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("verify --quick: finds a lost and a cut-short replica from the catalogs, reading no bytes (bit rot is the full verify's); --quick --repair fixes what it found", async () => {
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1, 2]);
  const m = await master(vols, join(dir, "master"), 2);
  try {
    await putAll(m.url, 20);
    const clean = await cli(["verify", "--quick", "--master", m.url]);
    assert.is(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /^verify --quick: 20 keys, 0 missing, 0 corrupt, 0 unreachable: all well$/m);

    assert.equal([5, 10, 15].map((i) => value(i).length > 32 << 10), [true, true, true], "files, as this test means");
    const fileOn = async (i: number, which: number) => {
      const name = (await locate(m.url, keyOf(i))).volumes[which];
      const v = vols.find((x) => x.name === name)!;
      return join(v.dir, "blobs", blobPath(keyOf(i)));
    };
    rmSync(await fileOn(5, 1)); // lost
    const cut = await fileOn(10, 0);
    writeFileSync(cut, readFileSync(cut).subarray(1)); // one byte short
    const rotted = await fileOn(15, 0);
    const bytes = readFileSync(rotted);
    bytes[100] ^= 0xff; // same size, other bytes
    writeFileSync(rotted, bytes);

    const found = await cli(["verify", "--quick", "--master", m.url]);
    assert.is(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, /^verify --quick: 20 keys, 1 missing, 1 corrupt, 0 unreachable: \d+ problem\(s\) left$/m, found.stdout + found.stderr);
    assert.match(found.stderr, new RegExp(`${value(10).length - 1} bytes md5 ${md5(value(10))}, expected ${value(10).length} bytes`));

    const fixed = await cli(["verify", "--quick", "--repair", "--master", m.url]);
    assert.is(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.match(fixed.stdout, /2 replicas re-copied/);
    for (const i of [5, 10]) assert.is((await locate(m.url, keyOf(i))).volumes.length, 2);

    // What --quick cannot see, the full verify does.
    const full = await cli(["verify", "--master", m.url]);
    assert.is(full.code, 1, full.stdout + full.stderr);
    assert.match(full.stdout, /0 missing, 1 corrupt/);
    assert.match(full.stderr, new RegExp(`${keyOf(15)} on .*expected ${value(15).length} bytes md5 ${md5(value(15))}`));
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("verify --repair removes abandoned values no record points to", async () => {
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1]);
  const m = await master(vols, join(dir, "master"), 2);
  try {
    await putAll(m.url, 3);
    // A value written straight to a volume, as a write the master never committed leaves.
    assert.is((await fetch(`http://${vols[0].name}/abandoned`, { method: "PUT", body: "x".repeat(100) })).status, 201);
    const found = await cli(["verify", "--master", m.url]);
    assert.is(found.code, 1);
    assert.match(found.stderr, /abandoned/);
    const fixed = await cli(["verify", "--master", m.url, "--repair"]);
    assert.is(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.match(fixed.stdout, /1 abandoned values deleted/);
    assert.is((await fetch(`http://${vols[0].name}/abandoned`)).status, 404);
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("with --secret: volumes copy between themselves with signed requests; rebuild, rebalance and verify --repair work", async () => {
  const secret = "an-ops-test-secret-0123456789";
  const dir = tempDir("kvdb-ops");
  const vols: Vol[] = [];
  for (const i of [0, 1, 2]) vols.push(await volume(join(dir, `v${i}`), secret));
  const db = join(dir, "master");
  let m = await master(vols.slice(0, 2), db, 1, 0, secret);
  try {
    await putAll(m.url, 40);
    // Unsigned internal requests are refused: nobody else can make a volume copy or re-hash.
    assert.is((await fetch(`http://${vols[2].name}/_kvdb/pull/x?from=${vols[0].name}`, { method: "POST" })).status, 403);
    await m.stop();
    rmSync(db, { recursive: true, force: true });
    const rb = await cli(["rebuild", "--volumes", vols.slice(0, 2).map((v) => v.name).join(","), "--db", db, "--replicas", "1"], { KVDB_SECRET: secret });
    assert.is(rb.code, 0, rb.stderr);
    m = await master(vols, db, 1, 0, secret);
    assert.is((await fetch(`${m.url}/_kvdb/jobs/rebalance`, { method: "POST" })).status, 403, "unsigned job start refused");
    assert.is((await fetch(`${m.url}/_kvdb/jobs`)).status, 403);
    const r = await cli(["rebalance", "--master", m.url], { KVDB_SECRET: secret });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /rebalance: 40 keys, [1-9]\d* moved/);
    // Lose a disk: its values, inline or files, are gone; the volume comes back empty on its port.
    await vols[2].stop();
    rmSync(vols[2].dir, { recursive: true, force: true });
    vols[2] = await volume(vols[2].dir, secret, vols[2].port);
    const running = m;
    await until("the master sees the empty volume up", async () =>
      ((await (await fetch(`${running.url}/_kvdb/volumes`)).json()) as { up: boolean }[]).every((v) => v.up),
    );
    const v = await cli(["verify", "--master", m.url, "--repair"], { KVDB_SECRET: secret });
    // With one replica per key, a lost value has no good copy left: repair cannot help, and says so.
    assert.is(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stderr, /no good replica left/);
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("job progress is visible over HTTP, and bad arguments exit 2", async () => {
  const bad = await cli(["rebalance", "--master", "not a url"]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /^kvdb: master/);
  const noVolumes = await cli(["rebuild", "--db", "/tmp/x"], { KVDB_VOLUMES: "" });
  assert.is(noVolumes.code, 2);
  const dir = tempDir("kvdb-ops");
  const vols = await volumesIn(dir, [0, 1]);
  const m = await master(vols, join(dir, "master"), 1);
  try {
    await putAll(m.url, 10);
    const started = await fetch(`${m.url}/_kvdb/jobs/verify`, { method: "POST" });
    assert.is(started.status, 202);
    const job = (await started.json()) as { id: string };
    await until("verify job done", async () => ((await (await fetch(`${m.url}/_kvdb/jobs/${job.id}`)).json()) as { state: string }).state === "done");
    const view = (await (await fetch(`${m.url}/_kvdb/jobs/${job.id}`)).json()) as { done: number; total: number; ok: boolean; rate: number; eta: number };
    assert.is(view.done, 10);
    assert.is(view.total, 10);
    assert.is(view.ok, true);
    assert.is((await fetch(`${m.url}/_kvdb/jobs/nope`, { method: "POST" })).status, 404);
  } finally {
    await m.stop();
    await Promise.all(vols.map((v) => v.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
