/**
 * PutObject, GetObject, HeadObject, DeleteObject. The bytes are streamed both ways:
 * a PUT goes to every replica at once as the curl API's does, and may replace a value
 * (atomically: master/versions.ts); a GET is proxied from a replica, never redirected
 * (S3 clients do not follow redirects to another host).
 */
import { declaredMd5 } from "../wire/content-md5.ts";
import { overLimit } from "../wire/content-length.ts";
import type { KeyRecord, Precondition, Values } from "../master/values.ts";
import { parseRange } from "../volume/range.ts";
import { valueBody } from "./body.ts";
import { checksumHeaders, keepVerified, keptOf, partChecksumOf } from "./checksums.ts";
import { conflictsAs, deleteHeaders, evaluate, writeCondition } from "./conditions.ts";
import { S3Error } from "./errors.ts";
import type { LifecycleRule } from "./lifecycle-config.ts";
import { expirationHeader } from "./lifecycle-dates.ts";
import { etagOf, fieldsOf, MAX_PART_NUMBER, partRange, partsCount, valueHeaders } from "./metadata.ts";
import { bucketPrefix, inBucket, keyOf, requireBucket } from "./names.ts";
import type { Req, S3 } from "./s3.ts";

/** How long a DELETE waits for another operation on the key to finish. */
const DELETE_WAIT_MS = 60_000;

/** Query parameters of a GET that set the answer's headers (presigned URLs use them). */
const OVERRIDES = ["content-type", "content-language", "expires", "cache-control", "content-disposition", "content-encoding"];

/** The live record of an object; NoSuchBucket or NoSuchKey if there is none. */
export async function liveRecord(values: Values, bucket: string, object: string): Promise<{ key: string; record: KeyRecord; rules?: LifecycleRule[] }> {
  const { lifecycle } = await requireBucket(values, bucket);
  const key = keyOf(bucket, object);
  const record = await values.get(key);
  if (!record || record.state !== "live") throw new S3Error("NoSuchKey", `no object ${JSON.stringify(object)} in bucket ${bucket}`);
  return { key, record, rules: lifecycle };
}

export async function putObject(s: S3, r: Req): Promise<Response> {
  const { lifecycle } = await requireBucket(s.values, r.bucket);
  const key = keyOf(r.bucket, r.object);
  const precondition = writeCondition((n) => r.c.req.header(n), "PutObject");
  // Refused now if it already fails (no byte read); the master checks again as it switches the value in.
  precondition?.(await s.values.get(key));
  const stored = storeBody(s, r, key, fieldsOf(r.c), precondition, (record) => expirationHeader(lifecycle, r.object, record, s.lifecycleDayMs));
  return precondition ? conflictsAs(stored) : stored;
}

/**
 * Stores the request's body as the value of `key` (an object or a part), checked as S3
 * checks it; answers with its ETag (and the checksum it was verified against).
 */
export async function storeBody(
  s: S3,
  r: Req,
  key: string,
  fields: ReturnType<typeof fieldsOf>,
  precondition?: Precondition,
  more: (record: KeyRecord) => Record<string, string> = () => ({}),
): Promise<Response> {
  const md5 = declaredMd5(r.c);
  if (md5.kind === "invalid") throw new S3Error("InvalidDigest", "Content-MD5 must be the base64 of 16 bytes");
  const { declared, body, verified } = valueBody(r.c, r.payload);
  if (overLimit(declared, s.values.maxSize)) throw new S3Error("EntityTooLarge");
  // An object (not a part) needs its bucket still there when it becomes visible.
  const within = key.startsWith(bucketPrefix(r.bucket)) ? inBucket(r.bucket) : undefined;
  const record = await s.values.put(
    key,
    declared,
    body,
    fields,
    (w) => {
      if (md5.kind === "md5" && md5.hex !== w.md5) throw new S3Error("BadDigest", `Content-MD5 mismatch: the body's md5 is ${w.md5}`);
      keepVerified(fields, verified);
    },
    within,
    precondition,
  );
  return r.c.body(null, 200, { etag: etagOf(record), "content-length": "0", ...verified, ...more(record) });
}

/** GetObject and HeadObject. */
export async function getObject(s: S3, r: Req): Promise<Response> {
  const { c } = r;
  const { key, record, rules } = await liveRecord(s.values, r.bucket, r.object);
  const headers = { ...valueHeaders(record), ...expirationHeader(rules, r.object, record, s.lifecycleDayMs) };
  const verdict = evaluate(record, (name) => c.req.header(name));
  if (verdict === "precondition failed") throw new S3Error("PreconditionFailed");
  if (verdict === "not modified") return c.body(null, 304, { etag: headers.etag, "last-modified": headers["last-modified"] });
  for (const h of OVERRIDES) {
    const v = r.params.get(`response-${h}`);
    if (v !== undefined) headers[h] = v;
  }
  const part = r.params.get("partNumber");
  const range = partAsRange(record, part) ?? c.req.header("range");
  if (part !== undefined && c.req.header("range") !== undefined) throw new S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter");
  // The checksum covers the whole value, or a part of a multipart object (its own, as
  // uploaded): another range is answered without one, as S3 does.
  if (c.req.header("x-amz-checksum-mode")?.toUpperCase() === "ENABLED") {
    const multipart = part !== undefined && partsCount(record) !== undefined;
    if (multipart) Object.assign(headers, checksumHeaders(partChecksumOf(record, Number(part))));
    else if (!range || part !== undefined) Object.assign(headers, checksumHeaders(keptOf(record)));
  }
  if (c.req.method === "HEAD") return headAnswer(record, headers, range);
  const res = await s.values.read(key, record, "GET", range ? { range } : {});
  if (!res) throw new S3Error("ServiceUnavailable", "no replica of this object answered");
  if (res.status === 416) {
    await res.body?.cancel();
    throw new S3Error("InvalidRange", `bytes */${record.size}`);
  }
  for (const h of ["content-length", "content-range"]) {
    const v = res.headers.get(h);
    if (v) headers[h] = v;
  }
  return new Response(res.body, { status: res.status, headers });
}

/**
 * ?partNumber=N as the Range of that part's bytes (a client downloading parts in
 * parallel: 206 with Content-Range). An object not made by multipart has one part, the
 * whole object; undefined: no partNumber (or a whole empty object).
 */
function partAsRange(record: KeyRecord, asked: string | undefined): string | undefined {
  if (asked === undefined) return undefined;
  const n = /^\d{1,5}$/.test(asked) ? Number(asked) : 0;
  if (n < 1 || n > MAX_PART_NUMBER) throw new S3Error("InvalidArgument", `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`);
  const part = partsCount(record) === undefined ? (n === 1 ? { start: 0, end: record.size - 1 } : undefined) : partRange(record, n);
  if (!part) throw new S3Error("InvalidPartNumber", `the object has no part ${n}`);
  return part.end < part.start ? undefined : `bytes=${part.start}-${part.end}`;
}

/** HEAD, from the index alone (a Range is answered as GET would: 206 with Content-Range). */
function headAnswer(record: KeyRecord, headers: Record<string, string>, range: string | undefined): Response {
  const asked = parseRange(range, record.size);
  if (asked.kind === "unsatisfiable") return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${record.size}` } });
  if (asked.kind === "full") return new Response(null, { status: 200, headers: { ...headers, "content-length": String(record.size) } });
  const length = String(asked.end - asked.start + 1);
  return new Response(null, { status: 206, headers: { ...headers, "content-length": length, "content-range": `bytes ${asked.start}-${asked.end}/${record.size}` } });
}

/** Deletes an object (its record and every replica); true if there was one. `precondition` is checked on the record the delete claims. */
export async function deleteKey(values: Values, key: string, precondition?: Precondition): Promise<boolean> {
  let existed = false;
  let busy = false;
  const done = await values.locks.holdWhenFree(
    key,
    async () => {
      const record = await values.get(key);
      precondition?.(record);
      if (!record || (record.state === "writing" && !record.busy)) return;
      // Another master is changing the key (index.ts: busy), or changed it since the get.
      if (record.busy || !(await values.purge(key, record))) {
        busy = true;
        return;
      }
      existed = record.state === "live";
    },
    DELETE_WAIT_MS,
  );
  if (busy) throw new S3Error("OperationAborted", "another master is writing or deleting this key");
  if (!done) throw new S3Error("OperationAborted", "another write or delete of this key kept it too long");
  return existed;
}

/** DeleteObject: 204, also when there was no such object. */
export async function deleteObject(s: S3, r: Req): Promise<Response> {
  await requireBucket(s.values, r.bucket);
  const precondition = deleteHeaders((n) => r.c.req.header(n));
  const deleted = deleteKey(s.values, keyOf(r.bucket, r.object), precondition);
  await (precondition ? conflictsAs(deleted) : deleted);
  return r.c.body(null, 204);
}
