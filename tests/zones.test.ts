/**
 * Failure domains: replicas of a key go to distinct zones first (keys/zones.ts). A
 * placement simulation, then a real cluster whose volumes sit on two loopback "hosts",
 * 127.0.0.1 and 127.0.0.2 (both loopback on Linux), each host its own zone by default.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rank, type Candidate } from "../src/keys/placement.ts";
import { parseVolumeSpec, sharedZones, spreadByZone } from "../src/keys/zones.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { tempDir } from "../harness/paths.ts";
import { keyPath } from "../src/keys/keys.ts";

const N = 10_000;
const KEYS = Array.from({ length: N }, (_, i) => `/zones/object-${i}`);
const SIX = [1, 2, 3, 4, 5, 6].map((i) => ({ name: `10.0.0.${i}:3001`, zone: `rack${Math.ceil(i / 2)}`, weight: 1 }));

/** The first `r` volumes of each key's placement. */
function replicaSets(volumes: (Candidate & { zone: string })[], r: number): string[][] {
  const zone = new Map(volumes.map((v) => [v.name, v.zone]));
  return KEYS.map((k) => spreadByZone(rank(k, volumes), (v) => zone.get(v)!).slice(0, r));
}

/** Share of the replicas that are on a volume they were not on before. */
function movedShare(before: string[][], after: string[][]): number {
  let moved = 0;
  let total = 0;
  before.forEach((set, i) => {
    moved += after[i].filter((v) => !set.includes(v)).length;
    total += set.length;
  });
  return moved / total;
}

test("a volume's zone: given after =, else its host; https:// marks a volume serving TLS, its name the same", () => {
  assert.equal(parseVolumeSpec("10.0.0.1:3001=rack1"), { name: "10.0.0.1:3001", zone: "rack1", secure: false });
  assert.equal(parseVolumeSpec("http://10.0.0.1:3001/"), { name: "10.0.0.1:3001", zone: "10.0.0.1", secure: false });
  assert.equal(parseVolumeSpec("db7:3001"), { name: "db7:3001", zone: "db7", secure: false });
  assert.equal(parseVolumeSpec("https://10.0.0.1:3001=rack2"), { name: "10.0.0.1:3001", zone: "rack2", secure: true });
});

test("spreadByZone: one volume per zone first, in rendezvous order, then the rest in order", () => {
  const zone = (v: string) => v[0];
  assert.equal(spreadByZone(["a1", "a2", "b1", "a3", "c1", "b2"], zone), ["a1", "b1", "c1", "a2", "a3", "b2"]);
  assert.equal(sharedZones(["a1", "b1", "a2"], zone), ["a"]);
  assert.equal(sharedZones(["a1", "b1"], zone), []);
});

test("10 000 keys, 6 volumes in 3 racks, 2 and 3 replicas: never two replicas in one rack; racks and volumes evenly used", () => {
  for (const r of [2, 3]) {
    const sets = replicaSets(SIX, r);
    const perVolume = new Map<string, number>();
    for (const set of sets) {
      assert.is(new Set(set.map((v) => SIX.find((x) => x.name === v)!.zone)).size, r, set.join(","));
      for (const v of set) perVolume.set(v, (perVolume.get(v) ?? 0) + 1);
    }
    for (const v of SIX) {
      const share = perVolume.get(v.name)! / (N * r);
      assert.ok(Math.abs(share - 1 / 6) <= 0.02, `${r} replicas: ${v.name} holds ${(100 * share).toFixed(1)}%`);
    }
  }
});

test("adding a 7th volume moves about 1/7 of the replicas, in a rack of its own or in an existing one", () => {
  const before = replicaSets(SIX, 2);
  for (const zone of ["rack1", "rack4"]) {
    const share = movedShare(before, replicaSets([...SIX, { name: "10.0.0.7:3001", zone, weight: 1 }], 2));
    console.log(`    7th volume in ${zone}: ${(100 * share).toFixed(1)}% of replicas moved (1/7 = 14.3%)`);
    assert.ok(share > 0.1 && share < 0.19, `${zone}: ${share}`);
  }
});

test("--volumes with a bad zone or a volume twice (once with a zone) is a usage error: one line, exit 2", async () => {
  for (const list of ["127.0.0.1:3001=rack one", "127.0.0.1:3001,127.0.0.1:3001=rack2", "127.0.0.1=rack1"]) {
    const r = await runKvdb(["master", "--volumes", list, "--db", "/nonexistent/kvdb-zones"]);
    assert.is(r.code, 2, `${list}: ${r.stderr}`);
    assert.match(r.stderr, /^kvdb: volumes: .*\n$/);
  }
});

// ------------------------------------------------------------ a two-host cluster

const HOSTS = ["127.0.0.1", "127.0.0.2"];
const dir = tempDir("kvdb-zones");
const volumes = [HOSTS[0], HOSTS[0], HOSTS[1], HOSTS[1]].map((host, i) => new VolumeServer(join(dir, `v${i}`), { host }));
let master: MasterServer | undefined;

/** A master over the four volumes, each listed with `suffix` (say "=one"). */
const startOver = (suffix: (name: string) => string) => new MasterServer(join(dir, "master"), () => volumes.map((v) => v.name + suffix(v.name)), { replicas: 2 }).start();

test.before(async () => {
  await Promise.all(volumes.map((v) => v.start()));
});

test.after(async () => {
  await master?.stop();
  await Promise.all(volumes.map((v) => v.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const hostOf = (v: string) => v.split(":")[0];
const put = async (key: string) => {
  const res = await fetch(`${master!.url}${keyPath(key)}`, { method: "PUT", body: `value of ${key}` });
  assert.is(res.status, 201, key);
  return (res.headers.get("key-volumes") ?? "").split(",");
};

test("volumes on two hosts, 2 replicas: every key has one replica on each host", async () => {
  master = await startOver(() => "");
  for (let i = 0; i < 40; i++) {
    const where = await put(`/spread/${i}`);
    assert.equal(where.map(hostOf).sort(), HOSTS, `/spread/${i} on ${where}`);
  }
});

test("keys written while every volume was in one zone: verify names those that share a host, rebalance spreads them, verify is then clean", async () => {
  await master!.stop();
  master = await startOver(() => "=one"); // one zone: plain rendezvous order
  let crowded = 0;
  for (let i = 0; i < 40; i++) if (new Set((await put(`/crowded/${i}`)).map(hostOf)).size === 1) crowded++;
  assert.ok(crowded > 0, "some keys landed on one host");
  await master.stop();
  master = await startOver(() => ""); // back to a zone per host

  const env = { KVDB_MASTER: master.url };
  const before = await runKvdb(["verify"], env);
  assert.is(before.code, 1, before.stdout + before.stderr);
  const lines = before.stderr.split("\n").filter((l) => l.includes("share zone"));
  assert.is(lines.length, crowded, before.stderr);
  assert.match(lines[0], /^ {2}\/crowded\/\d+: replicas share zone 127\.0\.0\.[12] while zone 127\.0\.0\.[12] has room \(rebalance spreads them\)$/);

  const moved = await runKvdb(["rebalance"], env);
  assert.is(moved.code, 0, moved.stdout + moved.stderr);
  assert.match(moved.stdout, new RegExp(`^rebalance: 80 keys, ${crowded} moved `));
  const after = await runKvdb(["verify"], env);
  assert.is(after.code, 0, after.stdout + after.stderr);
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${master.url}/crowded/${i}`, { redirect: "manual" });
    assert.equal((res.headers.get("key-volumes") ?? "").split(",").map(hostOf).sort(), HOSTS);
    assert.is(await (await fetch(res.headers.get("location")!)).text(), `value of /crowded/${i}`);
  }
});

test.run();
