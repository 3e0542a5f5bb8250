/**
 * Cleaning up after failures: at start, the writes and deletes a crash interrupted
 * are undone or finished; while running, replicas left on volumes that were down
 * (orphans) are deleted once those volumes answer again.
 */
import type { Master } from "./master.ts";
import { deleteReplica, purge } from "./purge.ts";

/** Finishes what was in flight when the master stopped. Run before serving. */
export async function recover(m: Master): Promise<number> {
  let n = 0;
  for (const key of await m.records.inFlight()) {
    const record = m.records.get(key);
    if (record && (record.state === "writing" || record.state === "deleting")) {
      await purge(m, key, record);
      n++;
    } else {
      await m.records.pending.del(key);
    }
  }
  return n;
}

/** One pass over the orphans whose volume is up. */
export async function sweepOrphans(m: Master): Promise<void> {
  for await (const { volume, key } of m.records.orphanList()) {
    if (!m.volumes.isUp(volume)) continue;
    // A held key is left for the next pass.
    await m.locks.hold(key, async () => {
      // The key may have been written again onto this very volume: then the replica is live.
      const now = m.records.get(key);
      if (now?.volumes.includes(volume) || (await deleteReplica(m, volume, key))) {
        await m.records.forgetOrphan(volume, key);
      }
    });
  }
}

export function startJanitor(m: Master, everyMs = 2000): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout>;
  const loop = () => {
    timer = setTimeout(async () => {
      await sweepOrphans(m).catch((e) => console.error(`janitor: ${(e as Error).message}`));
      if (!stopped) loop();
    }, everyMs);
    timer.unref?.();
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
