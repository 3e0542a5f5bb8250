/**
 * PUT/POST /key: 201 once every replica has the value fsynced (or --min-replicas of
 * them, the rest owed: write-policy.ts held) and the index says live. Any failure
 * removes what was written: a 5xx means nothing was stored.
 */
import type { Context } from "hono";
import { declaredLength, overLimit, type DeclaredLength } from "../wire/content-length.ts";
import { declaredMd5, type DeclaredMd5 } from "../wire/content-md5.ts";
import { KvdbError } from "../errors.ts";
import { fail } from "../http/errors.ts";
import { requestBody } from "../runtime/request.ts";
import { goesDirect, redirect } from "./direct-write.ts";
import { exclusively, KEY_EXISTS, type Settled } from "./in-flight.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import { owedOn, undone } from "./write-policy.ts";
import { writeReplicas } from "./write-replicas.ts";

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
  return exclusively(m, key, (settled) => writeUnderLock(m, c, key, settled, declared, md5));
}

/** The write itself, the key held. */
async function writeUnderLock(m: Master, c: Context, key: string, settled: Settled, declared: DeclaredLength, declaredMd5: DeclaredMd5): Promise<Response> {
  for (;; settled.again()) {
    const old = await settled.record();
    if (old?.state === "live") return fail(c, 409, KEY_EXISTS);
    // An unlinked key may be written again (as in minikeyvalue); a record left by a
    // crash is cleaned up first. Either way the old bytes go before the new come.
    if (!old || (await purge(m, key, old))) break;
  }
  // A large body the client has not sent yet goes straight to a volume (direct-write.ts).
  if (goesDirect(m, c, declared)) return redirect(m, c, key, declared.bytes, declaredMd5);

  const { record, size, md5, volumes, failed } = await writeReplicas(m, key, key, declared, requestBody(c), (w) => {
    if (declaredMd5.kind === "md5" && declaredMd5.hex !== w.md5) {
      throw new KvdbError("invalid", `Content-MD5 mismatch: the body's md5 is ${w.md5}, Content-MD5 says ${declaredMd5.hex}`);
    }
    if (w.size === 0) throw new KvdbError("length-required", "empty body");
  });
  if (!(await m.index.commit(key, record, { state: "live", volumes, size, md5, time: Date.now(), ...owedOn(m, volumes) }, failed))) {
    throw await undone(m, key, record, new KvdbError("unavailable", "another master took the key over (this one's lease ran out)"), size);
  }
  return c.body(null, 201, { "content-length": "0", "content-md5": md5, etag: `"${md5}"`, "key-volumes": volumes.join(",") });
}
