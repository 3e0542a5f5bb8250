/**
 * Writing a value's replicas: the part of a write that the curl API (write.ts) and the
 * S3 API (versions.ts) share. The body is streamed to every replica at once
 * (replicate.ts), or, if it is small, read whole and sent in each volume's next batch
 * (batches.ts); the value is recorded `writing` first, so a restart undoes a write
 * that was cut short (janitor.ts), and any failure deletes what was written.
 */
import { encodeFields, FIELDS_HEADER, type ValueFields } from "../keys/fields.ts";
import type { DeclaredLength } from "../wire/content-length.ts";
import { discard, limited } from "../wire/content-length.ts";
import { HttpError } from "../http/errors.ts";
import type { KeyRecord } from "./index/index.ts";
import { IN_FLIGHT } from "./locks.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import { agreed, ClientAborted, LeaseLost, replicate, VolumeFailed, type Replicated, type Target } from "./replicate.ts";
import { BATCH_VALUE_MAX } from "../wire/batch-wire.ts";
import { takeSmall } from "../wire/small-body.ts";
import { connectionLost, Stalled } from "../wire/upload.ts";

export interface Written {
  /** The record of `name`, still `writing`: the caller commits or replaces with it. */
  record: KeyRecord;
  size: number;
  md5: string;
}

/**
 * The volumes a value of `need` bytes may go to, in the placement order of `key`;
 * throws when fewer than `replicas` can take it: 503 when too few are up, 507 when too
 * few of those have room. A full volume is skipped, not taken for down.
 */
export function candidatesFor(m: Master, key: string, need: number): string[] {
  const up = (v: string) => m.volumes.isUp(v);
  const free = (v: string) => m.volumes.get(v)?.free ?? 0;
  const alive = m.volumes.all.filter((v) => v.up).length;
  if (alive < m.replicas) throw new HttpError(503, `only ${alive} of the ${m.replicas} replicas' volumes are up`);
  const roomy = m.volumes.placement(key, (v) => up(v) && free(v) >= need);
  if (roomy.length >= m.replicas) return roomy;
  const most = Math.max(0, ...m.volumes.all.filter((v) => v.up && !roomy.includes(v.name)).map((v) => v.free));
  throw new HttpError(507, `nothing stored: ${need} bytes fit on ${roomy.length} of the ${m.replicas} volumes needed (the most free on any other is ${most} bytes)`);
}

/**
 * Opens an upload of `name` to each of the first `replicas` of `candidates`. A volume
 * that refuses the connection is marked down and the next one is tried, so a volume
 * that died since the last health check costs no failed write.
 */
async function connect(m: Master, name: string, headers: Record<string, string>, candidates: string[]): Promise<Target[]> {
  const targets: Target[] = [];
  while (targets.length < m.replicas && candidates.length) {
    const batch = candidates.splice(0, m.replicas - targets.length).map((volume) => ({ volume, upload: m.client.upload(volume, name, headers) }));
    const ready = await Promise.allSettled(batch.map((t) => t.upload.ready()));
    ready.forEach((r, i) => {
      if (r.status === "fulfilled") return void targets.push(batch[i]);
      m.volumes.markDown(batch[i].volume, String(r.reason));
      batch[i].upload.abort(r.reason);
    });
  }
  return targets;
}

/**
 * Streams `body` to new replicas of the value stored as `name`, on the volumes where
 * placement puts `key` (`name` is `key`, or a version name of it: keys/names.ts).
 * Resolves once every replica holds the bytes fsynced and they agree on size and md5,
 * and `check` (the caller's own tests of what arrived) passed. Throws an HttpError
 * otherwise, having deleted whatever was written.
 */
export async function writeReplicas(
  m: Master,
  key: string,
  name: string,
  declared: DeclaredLength,
  body: AsyncIterable<Uint8Array> | null,
  check: (w: { size: number; md5: string }) => void = () => {},
  fields?: ValueFields,
): Promise<Written> {
  if (body && declared.kind === "length" && declared.bytes <= BATCH_VALUE_MAX) return writeSmall(m, key, name, declared.bytes, body, check, fields);
  const headers: Record<string, string> =
    declared.kind === "length" ? { "content-length": String(declared.bytes) } : { "transfer-encoding": "chunked" };
  // The volumes keep S3's fields with the value, for kvdb rebuild (keys/fields.ts).
  const encoded = encodeFields(fields);
  if (encoded) headers[FIELDS_HEADER] = encoded;
  // A declared length goes only where it fits, decided before a byte is read; a chunked
  // body needs some room at least.
  const candidates = candidatesFor(m, key, declared.kind === "length" ? declared.bytes : 1);
  const targets = await connect(m, name, headers, candidates);
  const abort = (why: string) => {
    for (const t of targets) t.upload.abort(new Error(why));
  };
  if (targets.length < m.replicas) {
    abort("not enough volumes");
    throw new HttpError(503, `only ${targets.length} of the ${m.replicas} replicas' volumes are up`);
  }
  const volumes = targets.map((t) => t.volume);
  // The database decides between masters writing the same name at once: one create wins.
  const leaseHeld = m.index.leaseCheck();
  const record = await m.index.create(name, { state: "writing", volumes, size: 0, md5: "", time: Date.now() });
  if (!record) {
    abort("another write of the key won");
    throw new HttpError(409, IN_FLIGHT);
  }

  try {
    if (!body) throw new ClientAborted("no body");
    // A chunked body is cut as soon as it passes the limit (a declared length was checked above).
    const { size, md5 } = await replicate(limited(body, m.maxSize), targets, leaseHeld);
    if (declared.kind === "length" && size !== declared.bytes) {
      throw new ClientAborted(`body ended after ${size} of ${declared.bytes} bytes`);
    }
    check({ size, md5 });
    return { record, size, md5 };
  } catch (e) {
    if (e instanceof VolumeFailed && body) await discard(body); // the client may still be sending
    throw await undone(m, name, record, e, declared.kind === "length" ? declared.bytes : undefined);
  }
}

/** How often a small write starts over after a volume refused its connection, broke it or stalled. */
const LOST_RETRIES = 2;

/**
 * A small value (at most BATCH_VALUE_MAX bytes, its length declared): read whole, then
 * sent to each replica's volume in that volume's next batch, on no connection of its
 * own. A volume that refuses the connection (it died since the last health check) or
 * stalls (no answer for the volume timeout, or a batch before this one did) is marked
 * down and the write starts over on the next volumes, as connect() does for a streamed
 * write: such a volume costs no failed write, the value being in memory. A connection
 * that broke without an answer (a kept-alive one to a volume that just died) starts the
 * write over too; the new one finds out whether the volume is there.
 */
async function writeSmall(
  m: Master,
  key: string,
  name: string,
  length: number,
  body: AsyncIterable<Uint8Array>,
  check: (w: Replicated) => void,
  fields?: ValueFields,
): Promise<Written> {
  const bytes = await readWhole(body, length);
  for (let attempt = 0; ; attempt++) {
    const volumes = candidatesFor(m, key, length).slice(0, m.replicas);
    const leaseHeld = m.index.leaseCheck();
    const record = await m.index.create(name, { state: "writing", volumes, size: 0, md5: "", time: Date.now() });
    if (!record) throw new HttpError(409, IN_FLIGHT);
    try {
      if (!leaseHeld()) throw new LeaseLost();
      const answers = await Promise.allSettled(volumes.map((v) => m.client.putSmall(v, name, bytes, fields)));
      const lost = answers.map((a) => (a.status === "rejected" ? lostReplica(a.reason) : undefined));
      if (lost.some(Boolean) && attempt < LOST_RETRIES) {
        answers.forEach((a, i) => a.status === "rejected" && lost[i] === "down" && m.volumes.markDown(volumes[i], (a.reason as Error).message));
        await purge(m, name, record);
        continue;
      }
      const stored = answers.map((a, i): Replicated => {
        if (a.status === "rejected") throw new VolumeFailed(volumes[i], 0, (a.reason as Error).message, 0, a.reason instanceof Stalled);
        const r = a.value;
        if (r.status !== 201 || !("md5" in r)) throw new VolumeFailed(volumes[i], r.status, `answered ${r.status} ${"error" in r ? r.error : ""}`);
        return r;
      });
      const written = agreed(volumes, stored, length);
      check(written);
      return { record, ...written };
    } catch (e) {
      throw await undone(m, name, record, e, length);
    }
  }
}

/**
 * How a replica's batch call failed without an answer, if it did; either way the write
 * may start over (whatever a stalled volume stores late is owed a delete by the undo).
 * "down": nothing listens at the volume, or it stalled, so it is marked down; "reset":
 * a kept-alive connection broke, and a new one finds out.
 */
function lostReplica(reason: unknown): "down" | "reset" | undefined {
  if (reason instanceof Stalled) return "down";
  const lost = connectionLost(reason);
  return lost === "refused" ? "down" : lost;
}

/** A small body, whole; it must have exactly its declared `length`. */
async function readWhole(body: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array> {
  let taken;
  try {
    taken = await takeSmall(body, length);
  } catch (e) {
    // TooLarge, or what the S3 layer found wrong with the body (a bad chunk signature, checksum…).
    if (e instanceof HttpError) throw Object.assign(e, { message: `nothing stored: ${e.message}` });
    throw new ClientAborted(`nothing stored: upload aborted by the client: ${(e as Error).message}`);
  }
  if (!("small" in taken)) throw new ClientAborted(`nothing stored: the body is longer than its declared ${length} bytes`);
  if (taken.small.byteLength < length) throw new ClientAborted(`nothing stored: body ended after ${taken.small.byteLength} of ${length} bytes`);
  return taken.small;
}

/**
 * After a write of `name` failed with `e`: what was written is deleted (if the index
 * cannot be reached now, the janitor finishes the cleanup later), and the error the
 * client is to get. `declared`: the value's size if it was declared, for a full volume's
 * 507 (else what was sent when the volume failed).
 */
async function undone(m: Master, name: string, record: KeyRecord, e: unknown, declared: number | undefined): Promise<unknown> {
  // A failed volume is marked down first, so the purge leaves its replica to the
  // janitor instead of waiting for a volume that just stalled.
  const answer =
    e instanceof VolumeFailed ? await replicaFailed(m, e, declared ?? e.sent)
    : e instanceof HttpError ? Object.assign(e, { message: `nothing stored: ${e.message}` })
    : e;
  await purge(m, name, record).catch(() => {});
  // A disk that filled mid-value: the other replicas' partial files are gone now, and
  // the free space last seen on their volumes may have counted them.
  if (answer instanceof HttpError && answer.status === 507) await Promise.all(record.volumes.filter((v) => m.volumes.isUp(v)).map((v) => m.volumes.recheck(v)));
  return answer;
}

/**
 * What a volume's failure answers the client. One that broke off without an answer is
 * checked at once: a volume that ran out of space mid-body may cut the connection
 * before its 507 is read, yet it still serves reads and small writes, so it stays up
 * and the client gets 507. Otherwise (it stalled, or stored the wrong bytes) it is
 * marked down until its next health check, so the next writes go elsewhere; a stall
 * is not re-checked first (a full disk answers at once, and an overloaded volume
 * should shed writes without being asked again).
 */
async function replicaFailed(m: Master, e: VolumeFailed, need: number): Promise<HttpError> {
  m.stats.replicaWriteFailures.inc({ volume: e.volume });
  const failed = new HttpError(e.status, `nothing stored: ${e.message}`);
  if (e.answered !== 0) return failed;
  if (!e.stalled) {
    await m.volumes.recheck(e.volume);
    const v = m.volumes.get(e.volume);
    if (v?.up && v.free < need) return new HttpError(507, `nothing stored: volume ${e.volume} ran out of space (${v.free} bytes free)`);
  }
  m.volumes.markDown(e.volume, e.message);
  return failed;
}
