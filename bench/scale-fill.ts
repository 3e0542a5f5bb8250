/**
 * The scale benchmark's filler (used by bench/scale.ts only): writes N keys straight
 * into volume catalogs, so a cluster of millions of keys exists without millions of
 * HTTP PUTs. Each key `/scale/<i>` holds the load generator's value of `valueSize`
 * bytes for that key (src/loadgen/data.ts: `kvdb bench --existing-keys` checks its
 * Content-Md5), stored inline, through src/volume/catalog.ts's own bulk `load` — the
 * on-disk format is exactly what a volume writes for a PUT under --inline-max. Every
 * volume gets every key (3 volumes, 3 replicas), so the first catalog is written and
 * the others are copies of its closed LevelDB directory. Nothing else may write a
 * volume's catalog: run it on fresh directories, before the volumes start.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { Catalog } from "../src/volume/catalog.ts";
import { VolumeCounters } from "../src/volume/counters.ts";
import { Value } from "../src/loadgen/data.ts";

export const SCALE_PREFIX = "/scale/";

/** Keys per synced batch. */
const BATCH = 50_000;

/**
 * Writes keys 0 … keys − 1 into the catalog of the first volume dir (DIR/catalog, as
 * src/volume/start.ts opens it) and copies it to the others. `progress` hears the keys done.
 */
export async function fillCatalogs(dirs: string[], keys: number, valueSize: number, progress: (done: number) => void = () => {}): Promise<void> {
  const first = join(dirs[0], "catalog");
  const catalog = new Catalog(first, new VolumeCounters());
  await catalog.open();
  try {
    const time = Date.now();
    for (let from = 0; from < keys; from += BATCH) {
      const items = [];
      for (let i = from; i < Math.min(keys, from + BATCH); i++) {
        const value = new Value(`${SCALE_PREFIX}${i}`, valueSize);
        // A copy: the value is a view of the load generator's shared block.
        items.push({ key: value.key, entry: { size: valueSize, md5: value.md5(), time }, bytes: new Uint8Array(value.whole()) });
      }
      await catalog.load(items);
      progress(Math.min(keys, from + BATCH));
    }
  } finally {
    await catalog.close();
  }
  for (const d of dirs.slice(1)) cpSync(first, join(d, "catalog"), { recursive: true });
}
