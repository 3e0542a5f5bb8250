/**
 * A key's replica set: where placement wants it, copying it there, switching the
 * record, and deleting what is no longer wanted. A replica whose volume cannot be
 * reached becomes an orphan that the janitor deletes when the volume is back, so a
 * dead volume never blocks a key.
 */
import { storedName } from "../keys/names.ts";
import { spreadByZone } from "../keys/zones.ts";
import type { KeyRecord } from "./index/index.ts";
import type { Master } from "./master.ts";
import { VolumeError } from "./volume-error.ts";

/** Whether the master lists (and health-checks) this volume. */
export const known = (m: Master, volume: string) => m.volumes.get(volume) !== undefined;

/** Where `key` should live now: its placement (distinct zones first), skipping volumes that are down. */
export function wanted(m: Master, key: string): string[] {
  return m.volumes.placement(key, (v) => m.volumes.isUp(v)).slice(0, m.replicas);
}

/**
 * Deletes one replica (`name`: its name on the volume); true once the volume no longer
 * has it. A volume that gives no answer is marked down: the janitor deletes it later.
 */
export async function deleteReplica(m: Master, volume: string, name: string): Promise<boolean> {
  if (!m.volumes.isUp(volume)) return false;
  try {
    await m.client.delete(volume, name);
    return true;
  } catch (e) {
    if ((e as VolumeError).unanswered) m.volumes.markDown(volume, (e as Error).message);
    return false;
  }
}

/**
 * Removes a key: the record claimed as deleting (durably, before any replica goes; a
 * record already deleting, abandoned by a stopped master, is taken over the same way),
 * every replica deleted, the record dropped. Returns the volumes still owing a delete
 * (orphans, under the record's stored name), or undefined if the record had changed
 * (another operation won: nothing done).
 */
export async function purge(m: Master, key: string, record: KeyRecord): Promise<string[] | undefined> {
  const deleting = await m.index.setState(key, record, "deleting");
  if (!deleting) return undefined;
  const name = storedName(key, record);
  const done = await Promise.all(record.volumes.map((v) => deleteReplica(m, v, name)));
  const owed = record.volumes.filter((_, i) => !done[i]);
  // Only another master's janitor, finding this master's lease run out, can have taken it since.
  return (await m.index.drop(key, deleting, owed)) ? owed : undefined;
}

/**
 * Has `target` copy the key's value from the first of `sources` that can give it
 * (checked against the record, fsynced). Throws a VolumeError naming `target` and why
 * every source failed.
 */
export async function copyTo(m: Master, target: string, key: string, record: KeyRecord, sources: string[]): Promise<void> {
  const why: string[] = [];
  let last: VolumeError | undefined;
  for (const from of sources) {
    if (m.volumes.get(from)?.up === false) continue; // listed and down
    try {
      return await m.client.pull(target, storedName(key, record), from, record.size, record.md5);
    } catch (e) {
      last = e as VolumeError;
      why.push(`pulling from ${from}: ${last.detail}`);
    }
  }
  throw new VolumeError(target, last?.failure ?? "refused", why.join("; ") || `no source of ${key} is up`, last?.status);
}

/**
 * Where the replicas a key on `volumes` lacks are copied: the next volumes in its
 * placement order that are up and not `skipped`, the zones its replicas are in last
 * (keys/zones.ts), as many as it lacks of --replicas.
 */
export function repairTargets(m: Master, key: string, volumes: string[], skipped: string[] = []): string[] {
  const usable = (v: string) => m.volumes.isUp(v) && !volumes.includes(v) && !skipped.includes(v);
  return spreadByZone([...volumes, ...m.volumes.placement(key, usable)], (v) => m.volumes.zoneOf(v))
    .filter((v) => !volumes.includes(v))
    .slice(0, m.replicas - volumes.length);
}

/**
 * Switches a settled record to `volumes` (compare-and-set: undefined if it changed
 * meanwhile); dropped replicas become orphans, except on a volume no longer in the
 * master's list (never checked, so never swept). A record owed replicas
 * (KeyRecord.owed) stays owed what `volumes` lack of --replicas.
 */
export function switchVolumes(m: Master, key: string, record: KeyRecord, volumes: string[], dropped: string[]): Promise<KeyRecord | undefined> {
  const short = record.owed ? Math.max(0, m.replicas - volumes.length) : 0;
  return m.index.relocate(key, record, volumes, dropped.filter((v) => known(m, v)), short);
}

/** Deletes replicas recorded as orphans (`name`: their name on the volumes); those that cannot go now stay for the janitor. */
export async function dropReplicas(m: Master, name: string, volumes: string[]): Promise<void> {
  for (const volume of volumes) {
    if (known(m, volume)) {
      if (await deleteReplica(m, volume, name)) await m.index.forgetOrphan({ volume, name });
      continue;
    }
    // A removed volume: delete its copy if it still answers (best effort, it is leaving anyway).
    await m.client.delete(volume, name, true).catch(() => {});
  }
}
