/**
 * What S3 stores with a value besides its bytes — Content-Type, user metadata
 * (x-amz-meta-*), the standard headers S3 keeps (keys/fields.ts KEPT_HEADERS) and a
 * multipart object's part sizes — read from a request, and the headers that describe a
 * stored value.
 */
import type { Context } from "hono";
import type { KeyRecord } from "../master/values.ts";
import { headerText, KEPT_HEADERS, keptHeaders, KVDB_META_MARK, mailSafe, type ValueFields } from "../keys/fields.ts";
import { S3Error } from "./errors.ts";

const META = "x-amz-meta-";
/** S3's limit on the user metadata of one object. */
const MAX_META_BYTES = 2048;
/** What S3 answers for a value stored without a Content-Type. */
const DEFAULT_TYPE = "binary/octet-stream";

/** Parts are numbered from 1 to this (S3's limit). */
export const MAX_PART_NUMBER = 10_000;

/** A multipart object's part sizes, in `meta` (kvdb's own name, as keys/fields.ts keeps headers). */
const PARTS = `${KVDB_META_MARK}parts`;

/** The Content-Type, x-amz-meta-* and kept standard headers (Content-Encoding…) of a request. */
export function fieldsOf(c: Context): ValueFields {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(c.req.header())) {
    if (!name.startsWith(META)) continue;
    meta[name.slice(META.length)] = headerText(value);
    bytes += name.length - META.length + Buffer.byteLength(value, "latin1");
  }
  if (bytes > MAX_META_BYTES) throw new S3Error("InvalidArgument", `user metadata over ${MAX_META_BYTES} bytes`);
  for (const name of KEPT_HEADERS) {
    const value = name === "content-encoding" ? storedEncoding(c.req.header(name)) : c.req.header(name);
    if (value !== undefined) meta[KVDB_META_MARK + name] = headerText(value);
  }
  const type = c.req.header("content-type");
  return { ...(type ? { type } : {}), ...(Object.keys(meta).length ? { meta } : {}) };
}

/** A Content-Encoding as S3 keeps it: without aws-chunked, the framing of the request's body (chunked.ts), not of the value. */
function storedEncoding(header: string | undefined): string | undefined {
  const kept = header
    ?.split(",")
    .map((e) => e.trim())
    .filter((e) => e && e.toLowerCase() !== "aws-chunked");
  return kept?.length ? kept.join(", ") : undefined;
}

/** The quoted ETag of a stored value. */
export const etagOf = (r: KeyRecord) => `"${r.s3?.etag ?? r.md5}"`;

/** Last-Modified: S3 gives whole seconds. */
export const lastModified = (r: KeyRecord) => new Date(r.time).toUTCString();

/** ISO 8601 with milliseconds, as S3's listings give times. */
export const isoTime = (ms: number) => new Date(ms).toISOString();

/** The headers that describe a stored value (HEAD and GET). */
export function valueHeaders(r: KeyRecord): Record<string, string> {
  const headers: Record<string, string> = {
    etag: etagOf(r),
    "last-modified": lastModified(r),
    "content-type": r.s3?.type ?? DEFAULT_TYPE,
    "accept-ranges": "bytes",
  };
  for (const [name, value] of Object.entries(r.s3?.meta ?? {})) if (!name.startsWith(KVDB_META_MARK)) headers[`${META}${name}`] = mailSafe(value);
  Object.assign(headers, keptHeaders(r.s3));
  const parts = partsCount(r);
  if (parts) headers["x-amz-mp-parts-count"] = String(parts);
  return headers;
}

/** How many parts a multipart object was made of (its ETag's -N); undefined for any other. */
export function partsCount(r: KeyRecord): number | undefined {
  const n = /-(\d+)$/.exec(r.s3?.etag ?? "")?.[1];
  return n === undefined ? undefined : Number(n);
}

/** `fields` with the sizes of the parts a multipart object is made of, run-length coded ("5242880*3,1048576"). */
export function withParts(fields: ValueFields, sizes: number[]): ValueFields {
  const runs: [number, number][] = [];
  for (const size of sizes) {
    const last = runs[runs.length - 1];
    if (last && last[0] === size) last[1]++;
    else runs.push([size, 1]);
  }
  const coded = runs.map(([size, n]) => (n > 1 ? `${size}*${n}` : String(size))).join(",");
  return { ...fields, meta: { ...fields.meta, [PARTS]: coded } };
}

/** The byte range of part `n` (from 1) of a multipart object; undefined if it has no such part or its sizes are not known. */
export function partRange(r: KeyRecord, n: number): { start: number; end: number } | undefined {
  const coded = r.s3?.meta?.[PARTS];
  const count = partsCount(r);
  if (coded === undefined || count === undefined || n > count) return undefined;
  let start = 0;
  let i = 0;
  for (const run of coded.split(",")) {
    const [size, times = 1] = run.split("*").map(Number);
    if (n <= i + times) {
      start += (n - i - 1) * size;
      return { start, end: start + size - 1 };
    }
    start += size * times;
    i += times;
  }
  return undefined;
}
