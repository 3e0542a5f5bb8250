/**
 * PUT/POST /key: 201 once every replica has the value fsynced and the index says
 * live. Any failure removes what was written: a 5xx means nothing was stored.
 */
import type { Context } from "hono";
import { declaredLength, discard, limited, overLimit, type DeclaredLength } from "../http/content-length.ts";
import { declaredMd5, type DeclaredMd5 } from "../http/content-md5.ts";
import { fail, HttpError } from "../http/errors.ts";
import { requestBody } from "../http/request.ts";
import { IN_FLIGHT } from "./locks.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import { ClientAborted, replicate, VolumeFailed, type Target } from "./replicate.ts";

/**
 * Opens an upload to each of the first `replicas` of `candidates` (placement order).
 * A volume that refuses the connection is marked down and the next one is tried, so
 * a volume that died since the last health check costs no failed write.
 */
async function connect(m: Master, key: string, headers: Record<string, string>, candidates: string[]): Promise<Target[]> {
  const targets: Target[] = [];
  while (targets.length < m.replicas && candidates.length) {
    const batch = candidates.splice(0, m.replicas - targets.length).map((volume) => ({ volume, upload: m.client.upload(volume, key, headers) }));
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
 * The volumes a value of `need` bytes may go to, in placement order, or the answer
 * when fewer than `replicas` can take it: 503 when too few are up, 507 when too few
 * of those have room. A full volume is skipped, not taken for down.
 */
function candidatesFor(m: Master, c: Context, key: string, need: number): string[] | Response {
  const up = (v: string) => m.volumes.isUp(v);
  const free = (v: string) => m.volumes.get(v)?.free ?? 0;
  const alive = m.volumes.all.filter((v) => v.up).length;
  if (alive < m.replicas) return fail(c, 503, `only ${alive} of the ${m.replicas} replicas' volumes are up`);
  const roomy = m.volumes.placement(key, (v) => up(v) && free(v) >= need);
  if (roomy.length >= m.replicas) return roomy;
  const most = Math.max(0, ...m.volumes.all.filter((v) => v.up && !roomy.includes(v.name)).map((v) => v.free));
  return fail(
    c,
    507,
    `nothing stored: ${need} bytes fit on ${roomy.length} of the ${m.replicas} volumes needed (the most free on any other is ${most} bytes)`,
  );
}

export async function write(m: Master, c: Context, key: string): Promise<Response> {
  // Everything decidable from the headers is decided before a byte of the body is read.
  const declared = declaredLength(c);
  if (declared.kind === "invalid") return fail(c, 400, "invalid Content-Length");
  if (declared.kind === "none" || (declared.kind === "length" && declared.bytes === 0)) {
    return fail(c, 411, "a non-empty body with Content-Length (or chunked) is required");
  }
  const tooLarge = overLimit(declared, m.maxSize);
  if (tooLarge) return fail(c, 413, tooLarge);
  const md5 = declaredMd5(c);
  if (md5.kind === "invalid") return fail(c, 400, "invalid Content-MD5 (base64 of 16 bytes, or 32 hex digits)");
  return m.locks.hold(key, () => store(m, c, key, declared, md5)) ?? fail(c, 409, IN_FLIGHT);
}

/** The write itself, the key held. */
async function store(m: Master, c: Context, key: string, declared: DeclaredLength, declaredMd5: DeclaredMd5): Promise<Response> {
  const old = await m.index.get(key);
  if (old?.state === "live") return fail(c, 409, "key exists (values are immutable: DELETE it first)");
  // An unlinked key may be written again (as in minikeyvalue); a record left by a
  // crash is cleaned up first. Either way the old bytes go before the new come.
  if (old && (old.busy || !(await purge(m, key, old)))) return fail(c, 409, IN_FLIGHT);

  const headers: Record<string, string> =
    declared.kind === "length" ? { "content-length": String(declared.bytes) } : { "transfer-encoding": "chunked" };
  // A declared length goes only where it fits, decided before a byte is read; a chunked
  // body needs some room at least.
  const candidates = candidatesFor(m, c, key, declared.kind === "length" ? declared.bytes : 1);
  if (candidates instanceof Response) return candidates;
  const targets = await connect(m, key, headers, candidates);
  if (targets.length < m.replicas) {
    for (const t of targets) t.upload.abort(new Error("not enough volumes"));
    return fail(c, 503, `only ${targets.length} of the ${m.replicas} replicas' volumes are up`);
  }
  const volumes = targets.map((t) => t.volume);
  // The database decides between masters writing the same key at once: one create wins.
  const leaseHeld = m.index.leaseCheck();
  const record = await m.index.create(key, { state: "writing", volumes, size: 0, md5: "", time: Date.now() });
  if (!record) {
    for (const t of targets) t.upload.abort(new Error("another write of the key won"));
    return fail(c, 409, IN_FLIGHT);
  }

  const body = requestBody(c);
  try {
    if (!body) throw new ClientAborted("no body");
    // A chunked body is cut as soon as it passes the limit (a declared length was checked above).
    const { size, md5 } = await replicate(limited(body, m.maxSize), targets, leaseHeld);
    if (declared.kind === "length" && size !== declared.bytes) {
      throw new ClientAborted(`body ended after ${size} of ${declared.bytes} bytes`);
    }
    if (declaredMd5.kind === "md5" && declaredMd5.hex !== md5) {
      throw new HttpError(400, `Content-MD5 mismatch: the body's md5 is ${md5}, Content-MD5 says ${declaredMd5.hex}`);
    }
    if (size === 0) {
      await purge(m, key, record);
      return fail(c, 411, "empty body");
    }
    if (!(await m.index.commit(key, record, { state: "live", volumes, size, md5, time: Date.now() }))) {
      throw new HttpError(503, "another master took the key over (this one's lease ran out)");
    }
    return c.body(null, 201, { "content-length": "0", "content-md5": md5, etag: `"${md5}"`, "key-volumes": volumes.join(",") });
  } catch (e) {
    // If the index cannot be reached now, the janitor finishes the cleanup later.
    await purge(m, key, record).catch(() => {});
    if (e instanceof VolumeFailed) {
      if (body) await discard(body); // the client may still be sending
      throw await replicaFailed(m, e, declared.kind === "length" ? declared.bytes : e.sent);
    }
    throw e instanceof HttpError ? new HttpError(e.status, `nothing stored: ${e.message}`) : e;
  }
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
