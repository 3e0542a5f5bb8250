/**
 * The synced writes of this process's LevelDB index (level.ts): how many, and how many
 * records they carried, so fsyncs per acknowledged PUT can be read off
 * /_kvdb/metrics (bench/fsyncs.ts). Kept for the process, like the volume's
 * src/volume/fsync-stats.ts.
 */
import { Counter } from "../../observe/metrics.ts";

export const indexSyncs = new Counter("kvdb_index_syncs_total", "Synced batches written to the LevelDB index (one fsync of its log each; group commit shares one among concurrent changes)", "counter");
export const indexSyncedChanges = new Counter("kvdb_index_synced_changes_total", "Index changes made durable by those synced batches", "counter");
// Shown from the start (0), so a reader can tell "no sync yet" from "not counted".
indexSyncs.inc({}, 0);
indexSyncedChanges.inc({}, 0);
