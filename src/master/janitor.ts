/**
 * Cleaning up after failures: the writes and deletes a stopped master left in flight
 * (this one before a crash, or another whose lease ran out: index.ts) are undone or
 * finished, at start and then on every sweep; replicas left on volumes that were down
 * (orphans) are deleted once those volumes answer again; replicas owed to a key written
 * on fewer volumes than --replicas (--min-replicas: KeyRecord.owed) are copied as soon
 * as a volume can take them.
 */
import { repeat } from "../repeat.ts";
import { logger } from "../observe/logger.ts";
import { ownerOf, storedName } from "../keys/names.ts";
import { directPending } from "./direct-terms.ts";
import type { Master } from "./master.ts";
import { copyTo, deleteReplica, purge, repairTargets, switchVolumes } from "./replicas.ts";

const SWEEP_EVERY_MS = 2000;

/** Undoes abandoned writes, finishes abandoned deletes, lets go of abandoned job claims; how many it undid or finished. */
export async function finishAbandoned(m: Master): Promise<number> {
  let n = 0;
  for await (const key of m.index.abandoned()) {
    // A key this master holds is not abandoned: its operation is still running here.
    if (m.locks.has(key)) continue;
    const seen = await m.index.get(key);
    // Nor is a direct write whose volume may still commit (direct-terms.ts).
    if (directPending(seen)) continue;
    // Nothing to undo, only an owner mark to let go of: settle is a compare-and-set and
    // needs no lock, and holding the key here would make a client's PUT or DELETE that
    // comes just then meet 409 (the listing may name a write that has just ended).
    if (seen && !seen.busy && (seen.state === "live" || seen.state === "unlinked")) {
      await m.index.settle(key, seen);
      continue;
    }
    await m.locks.hold(key, async () => {
      const record = await m.index.get(key);
      if (!record || record.busy || directPending(record)) return; // gone, taken over by another master meanwhile, or in flight
      if (record.state === "writing" || record.state === "deleting") {
        if (await purge(m, key, record)) n++;
      } else {
        await m.index.settle(key, record);
      }
    });
  }
  return n;
}

/**
 * Whether the index points at the replica named `name` on `volume`: the live value of
 * the key the name belongs to, or a value being written under that name.
 */
export async function holds(m: Master, name: string, volume: string): Promise<boolean> {
  const key = ownerOf(name);
  const record = await m.index.get(key);
  if (record && storedName(key, record) === name && record.volumes.includes(volume)) return true;
  return name !== key && ((await m.index.get(name))?.volumes.includes(volume) ?? false);
}

/**
 * One pass over the orphans whose volume is up. A held key is left for the next pass,
 * unless `waitMs` is given (verify --repair, which reports what it leaves): then it is
 * waited for that long, as when the janitor's own pass holds it.
 */
export async function sweepOrphans(m: Master, waitMs = 0): Promise<void> {
  for await (const orphan of m.index.orphans()) {
    const { volume, name } = orphan;
    if (!m.volumes.isUp(volume)) continue;
    const sweep = async () => {
      // The key may have been written again onto this very volume: then the replica is live.
      // (An orphan another pass has just forgotten is deleted again: a 404 counts as deleted.)
      if ((await holds(m, name, volume)) || (await deleteReplica(m, volume, name))) await m.index.forgetOrphan(orphan);
    };
    await (waitMs ? m.locks.holdWhenFree(ownerOf(name), sweep, waitMs) : m.locks.hold(ownerOf(name), sweep));
  }
}

/** Keys repaired at once: each is a copy between two volumes, none through the master. */
const REPAIRS_AT_ONCE = 4;

/**
 * One pass over the keys owed replicas: each gets copies (volume to volume, checked
 * against the record's size and md5: replicas.ts copyTo) on the next volumes of its
 * placement that are up, and its record then names them. A key no volume can take yet
 * waits for the next pass. Returns how many replicas were made, and whether any key
 * was left for another reason (held, a copy that failed): then the next pass should run.
 */
export async function repairOwed(m: Master): Promise<{ made: number; left: boolean }> {
  let made = 0;
  let left = false;
  const keys = m.index.underReplicated()[Symbol.asyncIterator]();
  const worker = async () => {
    for (let next = await keys.next(); !next.done; next = await keys.next()) {
      const key = next.value;
      if (m.locks.has(key)) {
        left = true; // a write or delete of it is under way: next pass
        continue;
      }
      await m.locks.hold(key, async () => {
        const n = await repairKey(m, key);
        if (n === undefined) return;
        made += n;
        left ||= n === 0;
      });
    }
  };
  await Promise.all(Array.from({ length: REPAIRS_AT_ONCE }, worker));
  return { made, left };
}

/** Copies the replicas `key` is owed where it can (the key held); how many it made, undefined if no volume can take one. */
async function repairKey(m: Master, key: string): Promise<number | undefined> {
  const record = await m.index.get(key);
  if (!record?.owed || record.busy || (record.state !== "live" && record.state !== "unlinked")) return 0;
  const targets = repairTargets(m, key, record.volumes);
  // Owed more than --replicas now asks (it was lowered): only the mark goes.
  if (!targets.length && record.volumes.length < m.replicas) return undefined;
  const claimed = await m.index.claim(key, record);
  if (!claimed) return 0;
  const copied: string[] = [];
  for (const target of targets) {
    await copyTo(m, target, key, record, record.volumes).then(
      () => copied.push(target),
      (e: Error) => logger("janitor").warn(`${key}: copying an owed replica to ${target} failed: ${e.message}`),
    );
  }
  // Switched even with nothing copied: that lets go of the claim.
  await switchVolumes(m, key, claimed, [...record.volumes, ...copied], []);
  return copied.length;
}

const report = (e: unknown) => void logger("janitor").error((e as Error).message, { cause: (e as Error).stack });

/** How long a pass over the owed keys that copied nothing is not repeated while the same volumes are up. */
const IDLE_REPAIR_MS = 30_000;

export function startJanitor(m: Master): () => void {
  // While a volume stays down, the owed keys can go nowhere new: a pass that copied
  // nothing is not repeated every sweep (it reads every owed key) until the volumes up
  // change, or IDLE_REPAIR_MS passed (a key may be owed for another reason: a full volume).
  let idle: { up: string; at: number } | undefined;
  return repeat("janitor", SWEEP_EVERY_MS, async () => {
    const finished = await finishAbandoned(m).catch(report);
    if (finished) logger("master").info(`cleaned up ${finished} operation(s) a stopped master left in flight`);
    await sweepOrphans(m).catch(report);
    const up = m.volumes.all.filter((v) => v.up).map((v) => v.name).join(",");
    if (idle && idle.up === up && Date.now() - idle.at < IDLE_REPAIR_MS) return;
    const repaired = await repairOwed(m).catch(report);
    idle = repaired && !repaired.made && !repaired.left ? { up, at: Date.now() } : undefined;
    if (repaired?.made) logger("master").info(`copied ${repaired.made} owed replica(s)`, { replicas: repaired.made });
  });
}
