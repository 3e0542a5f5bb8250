/**
 * What the streamed and the batched write (streamed-write.ts, batched-write.ts) share:
 * where a value may go, the record that says it is being written, the replicas'
 * agreement, how many must hold it (--min-replicas: held), the one retry policy (a volume that gave no answer is skipped and the value
 * sent elsewhere while the writer still can) and the one undo (whatever was written is
 * deleted, and the answer says nothing was stored: errors.ts nothingStored).
 */
import { isKvdbError, KvdbError, nothingStored } from "../errors.ts";
import { HttpError } from "../http/errors.ts";
import type { KeyRecord } from "./index/index.ts";
import { createForWrite } from "./in-flight.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import type { Stored } from "./volume-client.ts";
import { VolumeError } from "./volume-error.ts";

/** What a write of a value's replicas resolves to (write-replicas.ts). */
export interface Written extends Stored {
  /** The record of `name`, still `writing`: the caller commits or replaces with it. */
  record: KeyRecord;
  /** Where the value is, fsynced: at least --min-replicas volumes (owedOn: what the rest is owed). */
  volumes: string[];
  /** Volumes the write failed on (it went on without them): their replicas are owed a delete. */
  failed: string[];
}

/** How often a batched write starts over after volumes gave no answer (a streamed one cannot: the body is spent). */
const RETRIES = 2;

/** The client's body broke off (disconnect, reset) or came short. */
export const clientAborted = (why: string) => new KvdbError("aborted", why);

/** The master lost the key it writes (its lease ran out): the rest of the value must not reach the volumes. */
export const leaseLost = () =>
  new KvdbError("unavailable", "this master's lease on the index ran out while it wrote (it stalled or lost the database); the key may be another master's now");

/** Too few volumes are up to hold the `needed` copies a write must make. */
export const tooFewUp = (up: number, needed: number) => new KvdbError("unavailable", `only ${up} of the ${needed} replicas' volumes are up`);

/**
 * The volumes a value of `need` bytes may go to, in the placement order of `key`;
 * throws when fewer than --min-replicas can take it: unavailable when too few are up,
 * full when too few of those have room. A full volume is skipped, not taken for down.
 */
export function candidatesFor(m: Master, key: string, need: number): string[] {
  const up = (v: string) => m.volumes.isUp(v);
  const free = (v: string) => m.volumes.get(v)?.free ?? 0;
  const alive = m.volumes.all.filter((v) => v.up).length;
  if (alive < m.minReplicas) throw tooFewUp(alive, m.minReplicas);
  const roomy = m.volumes.placement(key, (v) => up(v) && free(v) >= need);
  if (roomy.length >= m.minReplicas) return roomy;
  const most = Math.max(0, ...m.volumes.all.filter((v) => v.up && !roomy.includes(v.name)).map((v) => v.free));
  throw nothingStored(new KvdbError("full", `${need} bytes fit on ${roomy.length} of the ${m.minReplicas} volumes needed (the most free on any other is ${most} bytes)`));
}

/**
 * How many replicas a value on `volumes` is owed (KeyRecord.owed), as the record field:
 * absent when none. `replicas`: --replicas (a Master, or kvdb rebuild's option).
 */
export function owedOn(m: { replicas: number }, volumes: string[]): { owed?: number } {
  return volumes.length < m.replicas ? { owed: m.replicas - volumes.length } : {};
}

/**
 * The replicas a write keeps after some failed (--min-replicas): the `volumes` whose
 * answer is fulfilled, if at least minReplicas are and every failure is a volume's
 * (a VolumeError: down, stalled, full, refused); the failed volumes are then counted
 * and marked down as the retry policy does (lostVolumes), and their replicas are owed a
 * delete by the commit. Undefined when the write must fail instead.
 */
export function held<T>(m: Master, volumes: string[], answers: PromiseSettledResult<T>[]): { volumes: string[]; values: T[]; failed: string[] } | undefined {
  const failures = answers.flatMap((a) => (a.status === "rejected" ? [a.reason] : []));
  const kept = answers.flatMap((a, i) => (a.status === "fulfilled" ? [{ volume: volumes[i], value: a.value }] : []));
  if (kept.length < m.minReplicas || !failures.every((e) => e instanceof VolumeError)) return undefined;
  for (const e of failures as VolumeError[]) m.stats.replicaWriteFailures.inc({ volume: e.volume });
  lostVolumes(m, failures);
  return { volumes: kept.map((k) => k.volume), values: kept.map((k) => k.value), failed: volumes.filter((_, i) => answers[i].status === "rejected") };
}

/**
 * Records `name` as being written to `volumes` (so a restart undoes a write cut short:
 * janitor.ts). If another master's write of the same name began meanwhile, waits for
 * it and answers from it (in-flight.ts createForWrite).
 */
export function begin(m: Master, name: string, volumes: string[]): Promise<KeyRecord> {
  return createForWrite(m, name, { state: "writing", volumes, size: 0, md5: "", time: Date.now() });
}

/** The md5 every volume reports for the `size` bytes it was sent; a "mismatch" VolumeError names the first that stored another size or md5. */
export function agreed(volumes: string[], stored: Stored[], size: number): Stored {
  const md5 = stored[0].md5;
  stored.forEach((got, i) => {
    if (got.size !== size) throw new VolumeError(volumes[i], "mismatch", `stored ${got.size} bytes, sent ${size}`);
    if (got.md5 !== md5) throw new VolumeError(volumes[i], "mismatch", `stored md5 ${got.md5}, ${volumes[0]} stored ${md5}`);
  });
  return { size, md5 };
}

/**
 * The retry policy: whether a write that met `failures` (one per volume that failed)
 * may send the value to other volumes, because one of them gave no answer (whatever a
 * stalled volume stores late is owed a delete by the undo). If so, the volumes found
 * down or stalled are marked down first, so placement skips them; a broken kept-alive
 * connection is not (the next call finds out whether the volume is there).
 */
export function lostVolumes(m: Master, failures: unknown[]): boolean {
  const lost = failures.filter((e): e is VolumeError => e instanceof VolumeError && e.unanswered);
  for (const e of lost) if (e.failure !== "broken") m.volumes.markDown(e.volume, e.message);
  return lost.length > 0;
}

/**
 * Whether the write of `name` (its `attempt`th, from 0) starts over after `failures`:
 * at most RETRIES times, when lostVolumes says so; what it wrote is deleted first.
 */
export async function startsOver(m: Master, name: string, record: KeyRecord, failures: unknown[], attempt: number): Promise<boolean> {
  if (attempt >= RETRIES || !lostVolumes(m, failures)) return false;
  await purge(m, name, record);
  return true;
}

/**
 * The undo: after a write of `name` failed with `e`, what was written is deleted (if the
 * index cannot be reached now, the janitor finishes the cleanup later); the error the
 * client is to get, marked nothing stored. `need`: the value's size if it was declared,
 * for a full volume's answer (else what was sent when the volume failed).
 */
export async function undone(m: Master, name: string, record: KeyRecord, e: unknown, need: number | undefined): Promise<unknown> {
  // A failed volume is marked down first, so the purge leaves its replica to the
  // janitor instead of waiting for a volume that just stalled.
  const answer = e instanceof VolumeError ? await replicaFailed(m, e, need ?? e.sent) : e;
  await purge(m, name, record).catch(() => {});
  // A disk that filled mid-value: the other replicas' partial files are gone now, and
  // the free space last seen on their volumes may have counted them.
  if (isKvdbError(answer, "full")) await Promise.all(record.volumes.filter((v) => m.volumes.isUp(v)).map((v) => m.volumes.recheck(v)));
  return answer instanceof HttpError || answer instanceof KvdbError ? nothingStored(answer) : answer;
}

/**
 * What a volume's failure answers the client. One that broke off without an answer is
 * checked at once: a volume that ran out of space mid-body may cut the connection
 * before its 507 is read, yet it still serves reads and small writes, so it stays up
 * and the client is told it is full. Otherwise (it stalled, or stored the wrong bytes)
 * it is marked down until its next health check, so the next writes go elsewhere; a
 * stall is not re-checked first (a full disk answers at once, and an overloaded volume
 * should shed writes without being asked again).
 */
async function replicaFailed(m: Master, e: VolumeError, need: number): Promise<KvdbError> {
  m.stats.replicaWriteFailures.inc({ volume: e.volume });
  if (e.status !== 0) return e;
  if (e.failure !== "stalled") {
    await m.volumes.recheck(e.volume);
    const v = m.volumes.get(e.volume);
    if (v?.up && v.free < need) return new KvdbError("full", `volume ${e.volume} ran out of space (${v.free} bytes free)`);
  }
  m.volumes.markDown(e.volume, e.message);
  return e;
}
