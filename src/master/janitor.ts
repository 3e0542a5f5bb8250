/**
 * Cleaning up after failures: the writes and deletes a stopped master left in flight
 * (this one before a crash, or another whose lease ran out: index.ts) are undone or
 * finished, at start and then on every sweep; replicas left on volumes that were down
 * (orphans) are deleted once those volumes answer again.
 */
import { logger } from "../http/logger.ts";
import type { Master } from "./master.ts";
import { deleteReplica, purge } from "./replicas.ts";

const SWEEP_EVERY_MS = 2000;

/** Undoes abandoned writes, finishes abandoned deletes, lets go of abandoned job claims; how many it undid or finished. */
export async function finishAbandoned(m: Master): Promise<number> {
  let n = 0;
  for await (const key of m.index.abandoned()) {
    // A key this master holds is not abandoned: its operation is still running here.
    await m.locks.hold(key, async () => {
      const record = await m.index.get(key);
      if (!record || record.busy) return; // gone, or taken over by another master meanwhile
      if (record.state === "writing" || record.state === "deleting") {
        if (await purge(m, key, record)) n++;
      } else {
        await m.index.settle(key, record);
      }
    });
  }
  return n;
}

/** One pass over the orphans whose volume is up. */
export async function sweepOrphans(m: Master): Promise<void> {
  for await (const orphan of m.index.orphans()) {
    const { volume, key } = orphan;
    if (!m.volumes.isUp(volume)) continue;
    // A held key is left for the next pass.
    await m.locks.hold(key, async () => {
      // The key may have been written again onto this very volume: then the replica is live.
      const now = await m.index.get(key);
      if (now?.volumes.includes(volume) || (await deleteReplica(m, volume, key))) await m.index.forgetOrphan(orphan);
    });
  }
}

const report = (e: unknown) => void logger("janitor").error((e as Error).message, { cause: (e as Error).stack });

export function startJanitor(m: Master): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout>;
  const loop = () => {
    timer = setTimeout(async () => {
      const finished = await finishAbandoned(m).catch(report);
      if (finished) logger("master").info(`cleaned up ${finished} operation(s) a stopped master left in flight`);
      await sweepOrphans(m).catch(report);
      if (!stopped) loop();
    }, SWEEP_EVERY_MS);
    timer.unref?.();
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
