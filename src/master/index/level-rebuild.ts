/**
 * `kvdb rebuild`'s writer for the LevelDB index (level.ts). Replicas are staged in a
 * sublevel of the index itself under "key \0 volume#", so a key's replicas sort
 * together and millions of keys never sit in memory; records and orphans go in
 * batches of BATCH entries, synced once at the end.
 */
import type { ClassicLevel } from "classic-level";
import type { NewRecord, Orphan, RebuildWriter, Replica } from "./index.ts";
import { groupByKey } from "./staging.ts";

/** A batch of the index's LevelDB. */
export type Batch = ReturnType<ClassicLevel<string, string>["batch"]>;

/** Keys never hold NUL. */
const SEP = "\0";
const stagingId = (key: string, volume: number) => `${key}${SEP}${String(volume).padStart(4, "0")}`;

/** Rebuild writes in batches of this many entries. */
const BATCH = 1000;

/** How the index adds a rebuilt record or an owed delete to a batch. */
export interface RebuildSinks {
  record(batch: Batch, key: string, record: NewRecord): void;
  orphan(batch: Batch, orphan: Orphan): void;
}

/** A writer with an empty staging area; the caller clears its own records. */
export async function levelRebuildWriter(db: ClassicLevel<string, string>, sinks: RebuildSinks): Promise<RebuildWriter> {
  const staging = db.sublevel<string, Replica>("rebuild", { valueEncoding: "json" });
  await staging.clear();
  let batch = db.batch();
  const flush = async (sync = false) => {
    if (batch.length >= BATCH || (sync && batch.length)) {
      await batch.write({ sync });
      batch = db.batch();
    }
  };
  return {
    async stage(key, volume, replica) {
      batch.put(stagingId(key, volume), replica, { sublevel: staging });
      await flush();
    },
    async *staged() {
      await flush(true);
      yield* groupByKey(
        (async function* () {
          for await (const [id, replica] of staging.iterator()) {
            const sep = id.lastIndexOf(SEP);
            yield { key: id.slice(0, sep), volume: Number(id.slice(sep + 1)), replica };
          }
        })(),
      );
    },
    async write(key, record) {
      sinks.record(batch, key, record);
      await flush();
    },
    async owe(orphan) {
      sinks.orphan(batch, orphan);
      await flush();
    },
    async finish() {
      await flush(true);
      await staging.clear();
    },
  };
}

