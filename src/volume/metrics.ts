/**
 * A volume's own metrics, beside the request metrics every server has: what it holds
 * (from its catalog) and its fsyncs (fsync-stats.ts).
 */
import type { Registry } from "../observe/metrics.ts";
import { catalogSyncs, fsyncSeconds, fsyncs } from "./fsync-stats.ts";

/** What the volume holds; read at each scrape. */
export interface HeldTotals {
  count: number;
  bytes: number;
}

export function registerVolumeMetrics(registry: Registry, held: HeldTotals): void {
  const blobs = registry.gauge("kvdb_stored_blobs", "Values this volume holds");
  const bytes = registry.gauge("kvdb_stored_bytes", "Bytes of the values this volume holds");
  registry.add(fsyncs);
  registry.add(catalogSyncs);
  registry.add(fsyncSeconds);
  registry.onCollect(() => {
    blobs.set({}, held.count);
    bytes.set({}, held.bytes);
  });
}
