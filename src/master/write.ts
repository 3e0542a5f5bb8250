/**
 * PUT/POST /key: 201 once every replica has the value fsynced and the index says
 * live. Any failure removes what was written: a 5xx means nothing was stored.
 */
import type { Context } from "hono";
import { declaredLength, limited, overLimit, type DeclaredLength } from "../http/content-length.ts";
import { declaredMd5, type DeclaredMd5 } from "../http/content-md5.ts";
import { fail, HttpError } from "../http/errors.ts";
import { requestBody } from "../http/request.ts";
import { IN_FLIGHT } from "./locks.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import { ClientAborted, replicate, VolumeFailed, type Target } from "./replicate.ts";

/**
 * Opens an upload to each of the first `replicas` healthy volumes in placement order.
 * A volume that refuses the connection is marked down and the next one is tried, so
 * a volume that died since the last health check costs no failed write.
 */
async function connect(m: Master, key: string, headers: Record<string, string>): Promise<Target[]> {
  const candidates = m.volumes.placement(key).filter((v) => m.volumes.isUp(v));
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
  const targets = await connect(m, key, headers);
  if (targets.length < m.replicas) {
    for (const t of targets) t.upload.abort(new Error("not enough volumes"));
    return fail(c, 503, `only ${targets.length} of the ${m.replicas} replicas' volumes are up`);
  }
  const volumes = targets.map((t) => t.volume);
  // A declared length a chosen volume cannot hold is refused before a byte is read: the
  // volume would answer 507 at once, but the master would only hear it on a later write.
  if (declared.kind === "length") {
    const free = (name: string) => m.volumes.get(name)?.free ?? 0;
    const full = volumes.filter((v) => declared.bytes > free(v));
    if (full.length) {
      for (const t of targets) t.upload.abort(new Error("value does not fit"));
      return fail(c, 507, `nothing stored: ${declared.bytes} bytes do not fit on ${full.join(",")}`);
    }
  }
  // The database decides between masters writing the same key at once: one create wins.
  const leaseHeld = m.index.leaseCheck();
  const record = await m.index.create(key, { state: "writing", volumes, size: 0, md5: "", time: Date.now() });
  if (!record) {
    for (const t of targets) t.upload.abort(new Error("another write of the key won"));
    return fail(c, 409, IN_FLIGHT);
  }

  try {
    const body = requestBody(c);
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
    if (e instanceof VolumeFailed && e.answered === 0) m.volumes.markDown(e.volume, e.message);
    throw e instanceof HttpError ? new HttpError(e.status, `nothing stored: ${e.message}`) : e;
  }
}
