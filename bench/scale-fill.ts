/**
 * The scale benchmark's filler (used by bench/scale.ts only): writes N keys straight
 * into volume catalogs, so a cluster of millions of keys exists without millions of
 * HTTP PUTs. Each key `/scale/<i>` holds the load generator's value of `valueSize`
 * bytes for that key (src/loadgen/data.ts: `kvdb bench --existing-keys` checks its
 * Content-Md5), stored inline, through src/volume/catalog.ts's own put — the on-disk
 * format is exactly what a volume writes for a PUT under --inline-max. Every volume
 * gets every key (3 volumes, 3 replicas). Nothing else may write a volume's catalog:
 * run it on fresh directories, before the volumes start.
 */
import { join } from "node:path";
import { Catalog } from "../src/volume/catalog.ts";
import { VolumeCounters } from "../src/volume/counters.ts";
import { Value } from "../src/loadgen/data.ts";

export const SCALE_PREFIX = "/scale/";

/** Puts issued at once: the catalog's group commit makes them a few big synced batches. */
const BATCH = 20_000;

/**
 * Writes keys 0 … keys − 1 into the catalog of each volume dir (DIR/catalog, as
 * src/volume/start.ts opens it), all volumes at once. `progress` hears the keys done.
 */
export async function fillCatalogs(dirs: string[], keys: number, valueSize: number, progress: (done: number) => void = () => {}): Promise<void> {
  const catalogs = dirs.map((d) => new Catalog(join(d, "catalog"), new VolumeCounters()));
  try {
    for (const c of catalogs) await c.open();
    const time = Date.now();
    for (let from = 0; from < keys; from += BATCH) {
      const puts: Promise<void>[] = [];
      for (let i = from; i < Math.min(keys, from + BATCH); i++) {
        const value = new Value(`${SCALE_PREFIX}${i}`, valueSize);
        // A copy: the value is a view of the load generator's shared block.
        const bytes = new Uint8Array(value.whole());
        const entry = { size: valueSize, md5: value.md5(), time };
        for (const c of catalogs) puts.push(c.put(value.key, entry, bytes));
      }
      await Promise.all(puts);
      progress(Math.min(keys, from + BATCH));
    }
  } finally {
    for (const c of catalogs) await c.close();
  }
}
