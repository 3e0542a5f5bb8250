/**
 * Removing a key's bytes: mark it deleting (durably), delete every replica, drop the
 * record. A replica whose volume cannot be reached becomes an orphan that the janitor
 * deletes when the volume is back, so a dead volume never blocks the key.
 */
import { runtime } from "../runtime/mod.ts";
import type { Master } from "./master.ts";
import type { KeyRecord } from "./records.ts";

/** Deletes one replica; true once the volume no longer has it. */
export async function deleteReplica(m: Master, volume: string, key: string): Promise<boolean> {
  if (!m.volumes.isUp(volume)) return false;
  try {
    const res = await runtime.call(m.volumes.url(volume, key, "DELETE"), { method: "DELETE", timeoutMs: m.timeoutMs });
    await res.body?.cancel();
    return res.status === 204 || res.status === 404;
  } catch (e) {
    m.volumes.markDown(volume, (e as Error).message);
    return false;
  }
}

/** Returns the volumes that still owe a delete (left as orphans). */
export async function purge(m: Master, key: string, record: KeyRecord): Promise<string[]> {
  if (record.state !== "deleting") await m.records.begin(key, { ...record, state: "deleting" });
  const done = await Promise.all(record.volumes.map((v) => deleteReplica(m, v, key)));
  const owed = record.volumes.filter((_, i) => !done[i]);
  await m.records.drop(key, owed);
  return owed;
}
