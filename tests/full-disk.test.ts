/**
 * Full disks are full, not down: volumes on real small tmpfs mounts (not --max-bytes).
 * A volume without room for a value is skipped for it, keeps serving and taking small
 * values; 507 comes only when fewer volumes than replicas have room, and a chunked
 * upload that runs a disk out of space leaves nothing anywhere.
 * Needs root (mount -t tmpfs); skipped, saying why, where mounting is not allowed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rank } from "../src/keys/placement.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { tempDir } from "../harness/paths.ts";
import { filesUnder } from "./http.ts";
import { streamPut } from "../harness/data.ts";
import { until } from "../harness/until.ts";

const MiB = 1 << 20;
const dir = tempDir("kvdb-full");
/** v0 is nearly full (29 MiB of 48 held by a file that is not kvdb's); v3 is small. */
const SIZES = [48, 64, 64, 48];
const mounts = SIZES.map((_, i) => join(dir, `v${i}`));

function mountAll(): string {
  try {
    for (const [i, m] of mounts.entries()) {
      mkdirSync(m);
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${SIZES[i]}m`, "tmpfs", m], { stdio: "pipe" });
    }
    return "";
  } catch (e) {
    return (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
  }
}

function unmountAll(): void {
  for (const m of mounts) {
    try {
      execFileSync("umount", [m], { stdio: "pipe" });
    } catch {
      // not mounted
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

const whyNot = mountAll();
if (whyNot) console.log(`    SKIPPED: cannot mount a tmpfs here (${whyNot}); these tests need root`);
const maybe = whyNot ? test.skip : test;

/** Its volumes' dirs are the mounts (v0…v3 under dir). */
let c: Cluster;

interface VolumeView {
  name: string;
  up: boolean;
  free: number;
}
const view = async () => (await (await fetch(`${c.url}/_kvdb/volumes`)).json()) as VolumeView[];
const volume = async (i: number) => (await view()).find((v) => v.name === c.volumes[i].name)!;

/** A key whose first three volumes in placement order (all volumes weigh the same here) include volume `i`. */
function keyPlacedOn(i: number, prefix: string): string {
  const candidates = c.volumes.map((v) => ({ name: v.name, weight: 1 }));
  for (let n = 0; ; n++) if (rank(`${prefix}${n}`, candidates).slice(0, 3).includes(c.volumes[i].name)) return `${prefix}${n}`;
}

const blobCount = () => c.volumes.reduce((n, v) => n + filesUnder(join(v.dir, "blobs")).length, 0);
const tmpFiles = () => c.volumes.flatMap((v) => filesUnder(join(v.dir, "tmp")));

test.before(async () => {
  if (whyNot) return;
  writeFileSync(join(mounts[0], "filler"), Buffer.alloc(29 * MiB, 7));
  c = await startCluster({ dir, volumes: mounts.length, replicas: 3 });
  await until("the master sees v0 nearly full", async () => (await volume(0)).free < 20 * MiB);
});

test.after(async () => {
  await c?.close();
  unmountAll();
});

maybe("a 30 MB PUT whose placement includes the full volume goes to the next volume with room: 201", async () => {
  const key = keyPlacedOn(0, "/big/");
  const put = await streamPut(`${c.url}${key}`, 30_000_000);
  assert.is(put.status, 201, put.body);
  assert.equal(String(put.headers["key-volumes"]).split(",").sort(), c.volumes.slice(1).map((v) => v.name).sort());
});

maybe("the full volume is still up and takes a 5-byte value at once", async () => {
  assert.is((await volume(0)).up, true);
  const key = keyPlacedOn(0, "/small/");
  const res = await fetch(`${c.url}${key}`, { method: "PUT", body: "small" });
  assert.is(res.status, 201, await res.text());
  assert.ok(res.headers.get("key-volumes")!.split(",").includes(c.volumes[0].name));
  const back = await fetch(`${c.url}${key}`);
  assert.is(await back.text(), "small");
});

maybe("30 MB more fits on only 2 of the 3 volumes needed: 507 with a clear message, nothing stored", async () => {
  // Free space is checked every second: wait until the master has seen the first 30 MB land.
  await until("the master sees v3 with less than 30 MB free", async () => (await volume(3)).free < 30_000_000);
  const blobs = blobCount();
  const put = await streamPut(`${c.url}/big/too-much`, 30_000_000);
  assert.is(put.status, 507);
  assert.match(put.body, /^nothing stored: 30000000 bytes fit on 2 of the 3 volumes needed \(the most free on any other is \d+ bytes\)\n$/);
  assert.is(blobCount(), blobs);
  assert.is((await fetch(`${c.url}/big/too-much`)).status, 404);
  for (let i = 0; i < c.volumes.length; i++) assert.is((await volume(i)).up, true, `v${i} up`);
});

maybe("a chunked 30 MB upload that runs a volume out of space: 507, no temp file, no blob, no key; every volume still up, its free space seen afresh", async () => {
  const blobs = blobCount();
  const othersFree = (all: VolumeView[]) => all.filter((v) => v.name !== c.volumes[0].name).reduce((n, v) => n + v.free, 0);
  const before = othersFree(await view());
  let seen = false;
  const put = await streamPut(`${c.url}/big/chunked`, 30_000_000, {
    chunked: true,
    // Once a health check has counted the other replicas' partial files in their
    // volumes' free space, the master's view is stale when those files go: it must
    // look again before its 507, or the next write finds room nowhere.
    async pause(sent) {
      if (seen || sent < 12 * MiB) return;
      await until("the master sees the partial replicas", async () => before - othersFree(await view()) > 10 * MiB, 5000);
      seen = true;
    },
  });
  assert.is(put.status, 507, `${put.status} ${put.body} ${put.error?.message ?? ""}`);
  // The volume's 507 reaches the master, or its cut connection does and a fresh health check tells why.
  assert.match(put.body, /^nothing stored: volume 127\.0\.0\.1:\d+(: answered 507 volume disk full| ran out of space \(\d+ bytes free\))\n$/, put.body);
  assert.is((await fetch(`${c.url}/big/chunked`)).status, 404);
  assert.equal(tmpFiles(), []);
  // The full volume has its room back (its partial file is gone), and the master knows.
  assert.ok((await volume(0)).free > 10 * MiB, `v0 free as the master sees it: ${(await volume(0)).free}`);
  assert.is(blobCount(), blobs);
  for (let i = 0; i < c.volumes.length; i++) assert.is((await volume(i)).up, true, `v${i} up`);
  const small = await fetch(`${c.url}/after/chunked`, { method: "PUT", body: "hello" });
  assert.is(small.status, 201, await small.text());
});

test.run();
