/**
 * Cleaning up after failures: at start, the writes and deletes a crash interrupted
 * are undone or finished; while running, replicas left on volumes that were down
 * (orphans) are deleted once those volumes answer again.
 */
import { logger } from "../http/logger.ts";
import type { Master } from "./master.ts";
import { deleteReplica, purge } from "./replicas.ts";

const SWEEP_EVERY_MS = 2000;

/** Finishes what was in flight when the master stopped. Run before serving. */
export async function recover(m: Master): Promise<number> {
  let n = 0;
  for await (const key of m.index.inFlight()) {
    const record = await m.index.get(key);
    if (record && (record.state === "writing" || record.state === "deleting")) {
      await purge(m, key, record);
      n++;
    } else {
      await m.index.settle(key);
    }
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

export function startJanitor(m: Master): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout>;
  const loop = () => {
    timer = setTimeout(async () => {
      await sweepOrphans(m).catch((e) => logger("janitor").error((e as Error).message, { cause: (e as Error).stack }));
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
