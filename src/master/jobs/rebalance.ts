/**
 * Online rebalance: every key is moved to the volumes placement now chooses, while
 * the masters keep serving. Per key, holding it (m.locks here, a claim in the index
 * for every other master) so no write or delete of it runs meanwhile:
 *   1. each wanted volume that lacks the value pulls it from a current replica
 *      (volume → volume, streamed, size and md5 checked, fsynced);
 *   2. one synced batch switches the record to the new volumes (compare-and-set on the
 *      claimed version) and records every replica no longer wanted as an orphan;
 *   3. those replicas are deleted (what cannot be, the janitor deletes later).
 * A crash between any two steps loses nothing: before 2 the old record still holds
 * (a copy already made is simply made again), after 2 the orphans say what to delete.
 */
import { storedName } from "../../keys/names.ts";
import type { Master } from "../master.ts";
import { copyTo, dropReplicas, known, switchVolumes, wanted } from "../replicas.ts";
import { count, eachKey, problem, type Job } from "./job.ts";

const same = (a: string[], b: string[]) => a.length === b.length && a.every((v) => b.includes(v));

function busy(job: Job, key: string): void {
  problem(job, `${key}: busy (a write or delete kept it), not moved`);
  count(job, "not moved");
}

export async function rebalance(m: Master, job: Job): Promise<void> {
  await eachKey(m.index, job, 4, async (key) => {
    const held = await m.locks.holdWhenFree(key, async () => {
      const record = await m.index.get(key);
      if (!record || (record.state !== "live" && record.state !== "unlinked")) return count(job, "skipped");
      if (record.busy) return busy(job, key);
      const want = wanted(m, key);
      if (want.length < m.replicas) {
        problem(job, `${key}: only ${want.length} of ${m.replicas} volumes up`);
        return count(job, "not moved");
      }
      if (same(want, record.volumes)) return count(job, "unchanged");
      const claimed = await m.index.claim(key, record);
      if (!claimed) return busy(job, key);
      const missing = want.filter((v) => !record.volumes.includes(v));
      // Current replicas that answer; one on a volume since removed from the list is tried too.
      const sources = record.volumes.filter((v) => m.volumes.isUp(v) || !known(m, v));
      for (const target of missing) {
        try {
          await copyTo(m, target, key, record, sources);
        } catch (e) {
          // Copies made so far are not referenced: the old record still stands. Whatever
          // landed is recorded as an orphan, so the janitor removes it.
          problem(job, `${key}: ${(e as Error).message}`);
          await switchVolumes(m, key, claimed, record.volumes, missing);
          return count(job, "not moved");
        }
        count(job, "copies");
      }
      const dropped = record.volumes.filter((v) => !want.includes(v));
      // Lost only if this master's lease ran out and another took the key over: the copies are then strays (verify).
      if (!(await switchVolumes(m, key, claimed, want, dropped))) return busy(job, key);
      await dropReplicas(m, storedName(key, record), dropped);
      count(job, "moved");
    });
    if (!held) busy(job, key);
  });
  const moved = job.counts.moved ?? 0;
  const notMoved = job.counts["not moved"] ?? 0;
  job.ok = notMoved === 0;
  const fraction = job.total ? ((100 * moved) / job.total).toFixed(1) : "0.0";
  const copies = job.counts.copies ?? 0;
  const replicaFraction = job.total ? ((100 * copies) / (job.total * m.replicas)).toFixed(1) : "0.0";
  job.summary =
    `rebalance: ${job.done} keys, ${moved} moved (${fraction}% of keys; ${copies} replicas copied, ${replicaFraction}% of replicas), ` +
    `${job.counts.unchanged ?? 0} already in place` +
    (notMoved ? `, ${notMoved} NOT moved (run again once every volume is up)` : "");
}
