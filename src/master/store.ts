/**
 * Writing a value's replicas: the part of a write that the curl API (write.ts) and the
 * S3 API (versions.ts) share. The body is streamed to every replica at once
 * (replicate.ts); the value is recorded `writing` first, so a restart undoes a write
 * that was cut short (janitor.ts), and any failure deletes what was written.
 */
import type { DeclaredLength } from "../http/content-length.ts";
import { limited } from "../http/content-length.ts";
import { HttpError } from "../http/errors.ts";
import type { KeyRecord } from "./index/index.ts";
import { IN_FLIGHT } from "./locks.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import { ClientAborted, replicate, VolumeFailed, type Target } from "./replicate.ts";

export interface Written {
  /** The record of `name`, still `writing`: the caller commits or replaces with it. */
  record: KeyRecord;
  size: number;
  md5: string;
}

/**
 * Opens an upload of `name` to each of the first `replicas` healthy volumes in the
 * placement order of `key`. A volume that refuses the connection is marked down and the
 * next one is tried, so a volume that died since the last health check costs no failed write.
 */
async function connect(m: Master, key: string, name: string, headers: Record<string, string>): Promise<Target[]> {
  const candidates = m.volumes.placement(key).filter((v) => m.volumes.isUp(v));
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
): Promise<Written> {
  const headers: Record<string, string> =
    declared.kind === "length" ? { "content-length": String(declared.bytes) } : { "transfer-encoding": "chunked" };
  const targets = await connect(m, key, name, headers);
  const abort = (why: string) => {
    for (const t of targets) t.upload.abort(new Error(why));
  };
  if (targets.length < m.replicas) {
    abort("not enough volumes");
    throw new HttpError(503, `only ${targets.length} of the ${m.replicas} replicas' volumes are up`);
  }
  const volumes = targets.map((t) => t.volume);
  // A declared length a chosen volume cannot hold is refused before a byte is read: the
  // volume would answer 507 at once, but the master would only hear it on a later write.
  if (declared.kind === "length") {
    const free = (v: string) => m.volumes.get(v)?.free ?? 0;
    const full = volumes.filter((v) => declared.bytes > free(v));
    if (full.length) {
      abort("value does not fit");
      throw new HttpError(507, `nothing stored: ${declared.bytes} bytes do not fit on ${full.join(",")}`);
    }
  }
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
    // If the index cannot be reached now, the janitor finishes the cleanup later.
    await purge(m, name, record).catch(() => {});
    if (e instanceof VolumeFailed && e.answered === 0) m.volumes.markDown(e.volume, e.message);
    if (e instanceof HttpError) throw Object.assign(e, { message: `nothing stored: ${e.message}` });
    throw e;
  }
}
