/**
 * Fsyncs of this process's volumes: how many, and how long each took. Kept for the
 * whole process (fd.ts calls are module functions), so `kvdb server`'s three volumes
 * report their sum; a volume process reports its own.
 */
import { Counter, Histogram } from "../observe/metrics.ts";

/** Seconds, 0.1 ms to 10 s: a flush of a large file on a busy disk is slow. */
const BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] as const;

export const fsyncs = new Counter("kvdb_fsyncs_total", "fsync and fdatasync calls made (files and directories)", "counter");
export const catalogSyncs = new Counter("kvdb_catalog_syncs_total", "Synced batches written to the volumes' catalogs (one fsync of its log each, shared by the writes of a window; inline values need only this)", "counter");
export const fsyncSeconds = new Histogram("kvdb_fsync_duration_seconds", "How long each fsync or fdatasync took", BUCKETS);

/** `sync` (an fsync-like call on an fd), counted and timed. */
export function timed(sync: (fd: number) => Promise<void>): (fd: number) => Promise<void> {
  return async (fd) => {
    const t0 = performance.now();
    try {
      await sync(fd);
    } finally {
      fsyncs.inc();
      fsyncSeconds.observe({}, (performance.now() - t0) / 1000);
    }
  };
}
