/**
 * bench/scale-fill.ts, the scale benchmark's filler: the catalogs it writes are ones real
 * `kvdb volume` processes open and serve — every key listed, each value's bytes and md5
 * the load generator's for that key (what `kvdb bench --existing-keys` checks).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fillCatalogs, SCALE_PREFIX } from "../bench/scale-fill.ts";
import { VolumeServer } from "../harness/servers.ts";
import { tempDir } from "../harness/paths.ts";
import { Value } from "../src/loadgen/data.ts";

test("3 filled catalogs: each volume lists every key and serves its exact bytes", async () => {
  const dir = tempDir("kvdb-scale-fill");
  const volumes = [0, 1, 2].map((i) => new VolumeServer(join(dir, `v${i}`), { runtime: "node" }));
  try {
    const dirs = volumes.map((v) => v.dir);
    const done: number[] = [];
    await fillCatalogs(dirs, 120_005, 32, (n) => done.push(n));
    assert.equal(done, [50_000, 100_000, 120_005]);
    for (const v of volumes) await v.start();
    for (const v of volumes) {
      assert.match(v.child.output(), /keys=120005 /);
      const listed = (await (await fetch(`${v.url}/_kvdb/list`)).text()).trim().split("\n");
      assert.is(listed.length, 120_005);
      assert.equal(JSON.parse(listed[0]).key, `${SCALE_PREFIX}0`);
      for (const i of [0, 7, 99_999, 120_004]) {
        const value = new Value(`${SCALE_PREFIX}${i}`, 32);
        const res = await fetch(`${v.url}${value.key}`);
        assert.is(res.status, 200, value.key);
        assert.equal(Buffer.from(await res.arrayBuffer()), value.whole(), value.key);
        assert.is(JSON.parse(listed.find((l) => l.includes(`"${value.key}"`))!).md5, value.md5());
      }
      assert.is((await fetch(`${v.url}${SCALE_PREFIX}120005`)).status, 404);
    }
  } finally {
    for (const v of volumes) await v.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
