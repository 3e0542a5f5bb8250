/**
 * A value streamed to every replica at once. Each chunk goes to all uploads before the
 * next is read, so the slowest replica paces the client and the master holds a few
 * chunks, never the value.
 *
 * The master hashes nothing: each volume hashes the bytes it wrote (the ones that
 * matter), every replica must report the size sent and the same md5, and a client's
 * Content-MD5 is checked against that md5. A second hash in the master would only see
 * the same bytes the volumes were sent.
 */
import { isKvdbError } from "../errors.ts";
import { encodeFields, FIELDS_HEADER, type ValueFields } from "../keys/fields.ts";
import { discard, limited, type DeclaredLength } from "../wire/content-length.ts";
import { HttpError } from "../http/errors.ts";
import type { KeyRecord } from "./index/index.ts";
import type { Master } from "./master.ts";
import type { ReplicaStream, Stored } from "./volume-client.ts";
import { VolumeError } from "./volume-error.ts";
import { agreed, begin, candidatesFor, clientAborted, held, type Written, leaseLost, lostVolumes, tooFewUp, undone } from "./write-policy.ts";

/**
 * Streams `body` (its length `declared`, or chunked) to new replicas of the value
 * stored as `name`, on the volumes where placement puts `key`. Resolves once every
 * replica still written holds the bytes fsynced (a volume that fails mid-value is left
 * behind while at least --min-replicas go on: write-policy.ts held) and they agree, and
 * `check` passed; throws otherwise, having deleted whatever was written (write-policy.ts undone).
 */
export async function writeStreamed(
  m: Master,
  key: string,
  name: string,
  declared: DeclaredLength,
  body: AsyncIterable<Uint8Array> | null,
  check: (w: Stored) => void,
  fields?: ValueFields,
): Promise<Written> {
  const headers: Record<string, string> =
    declared.kind === "length" ? { "content-length": String(declared.bytes) } : { "transfer-encoding": "chunked" };
  // The volumes keep S3's fields with the value, for kvdb rebuild (keys/fields.ts).
  const encoded = encodeFields(fields);
  if (encoded) headers[FIELDS_HEADER] = encoded;
  // A declared length goes only where it fits, decided before a byte is read; a chunked
  // body needs some room at least.
  const need = declared.kind === "length" ? declared.bytes : undefined;
  const targets = await connect(m, name, headers, candidatesFor(m, key, need ?? 1));
  const abort = (why: string) => {
    for (const t of targets) t.abort(new Error(why));
  };
  if (targets.length < m.minReplicas) {
    abort("not enough volumes");
    throw tooFewUp(targets.length, m.minReplicas);
  }
  const leaseHeld = m.index.leaseCheck();
  let record: KeyRecord;
  try {
    record = await begin(m, name, targets.map((t) => t.volume));
  } catch (e) {
    abort("another write of the key won");
    throw e;
  }

  try {
    if (!body) throw clientAborted("no body");
    // A chunked body is cut as soon as it passes the limit (a declared length was checked above).
    const { size, md5, volumes, failed } = await replicate(m, limited(body, m.maxSize), targets, leaseHeld);
    if (need !== undefined && size !== need) throw clientAborted(`body ended after ${size} of ${need} bytes`);
    check({ size, md5 });
    return { record, size, md5, volumes, failed };
  } catch (e) {
    if (e instanceof VolumeError && body) await discard(body); // the client may still be sending
    throw await undone(m, name, record, e, need);
  }
}

/**
 * Opens an upload of `name` to each of the first `replicas` of `candidates`. A volume
 * that cannot be connected to is marked down and the next one is tried (the retry
 * policy: write-policy.ts lostVolumes), so a volume that died since the last health
 * check costs no failed write.
 */
async function connect(m: Master, name: string, headers: Record<string, string>, candidates: string[]): Promise<ReplicaStream[]> {
  const targets: ReplicaStream[] = [];
  while (targets.length < m.replicas && candidates.length) {
    const batch = candidates.splice(0, m.replicas - targets.length).map((volume) => m.client.upload(volume, name, headers));
    const ready = await Promise.allSettled(batch.map((t) => t.ready()));
    ready.forEach((r, i) => {
      if (r.status === "fulfilled") return void targets.push(batch[i]);
      lostVolumes(m, [r.reason]);
      batch[i].abort(r.reason);
    });
  }
  return targets;
}

/**
 * Sends `body` to every target, chunk by chunk; `leaseHeld` is checked before each chunk
 * goes on (Index.leaseCheck). A target that fails is dropped while enough remain (held).
 */
async function replicate(m: Master, body: AsyncIterable<Uint8Array>, targets: ReplicaStream[], leaseHeld: () => boolean): Promise<Stored & { volumes: string[]; failed: string[] }> {
  let size = 0;
  const failed: string[] = [];
  // The targets that answered `steps`, or the first failure thrown when too few did.
  const survivors = <T>(steps: PromiseSettledResult<T>[], live: ReplicaStream[]): { live: ReplicaStream[]; values: T[] } => {
    const kept = held(m, live.map((t) => t.volume), steps);
    if (!kept) throw (steps.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
    failed.push(...kept.failed);
    steps.forEach((s, i) => s.status === "rejected" && live[i].abort(s.reason));
    return { live: live.filter((t) => kept.volumes.includes(t.volume)), values: kept.values };
  };
  let live = targets;
  const source = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await source.next();
      } catch (e) {
        // TooLarge, or what the S3 layer found wrong with the body (a bad chunk signature, checksum…).
        if (e instanceof HttpError || isKvdbError(e)) throw e;
        throw clientAborted(`upload aborted by the client: ${(e as Error).message}`);
      }
      if (next.done) break;
      if (!leaseHeld()) throw leaseLost();
      size += next.value.byteLength;
      const chunk = next.value;
      const steps = await Promise.allSettled(live.map((t) => t.write(chunk)));
      if (steps.some((s) => s.status === "rejected")) live = survivors(steps, live).live;
    }
  } catch (e) {
    for (const t of targets) t.abort(e);
    throw e;
  }
  // Wait for every answer, good or bad, so no replica is still being written when we clean up.
  const answers = await Promise.allSettled(live.map((t) => t.end()));
  const ended = survivors(answers, live);
  const volumes = ended.live.map((t) => t.volume);
  return { ...agreed(volumes, ended.values, size), volumes, failed };
}
