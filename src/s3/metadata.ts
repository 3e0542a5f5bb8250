/**
 * What S3 stores with a value besides its bytes — Content-Type and user metadata
 * (x-amz-meta-*) — read from a request, and the headers that describe a stored value.
 */
import type { Context } from "hono";
import type { KeyRecord } from "../master/values.ts";
import type { ValueFields } from "../keys/fields.ts";
import { S3Error } from "./errors.ts";

const META = "x-amz-meta-";
/** S3's limit on the user metadata of one object. */
const MAX_META_BYTES = 2048;
/** What S3 answers for a value stored without a Content-Type. */
const DEFAULT_TYPE = "binary/octet-stream";

/** The Content-Type and x-amz-meta-* of a request. */
export function fieldsOf(c: Context): ValueFields {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(c.req.header())) {
    if (!name.startsWith(META)) continue;
    meta[name.slice(META.length)] = value;
    bytes += name.length - META.length + value.length;
  }
  if (bytes > MAX_META_BYTES) throw new S3Error("InvalidArgument", `user metadata over ${MAX_META_BYTES} bytes`);
  const type = c.req.header("content-type");
  return { ...(type ? { type } : {}), ...(Object.keys(meta).length ? { meta } : {}) };
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
  for (const [name, value] of Object.entries(r.s3?.meta ?? {})) headers[`${META}${name}`] = value;
  const parts = /-(\d+)$/.exec(r.s3?.etag ?? "")?.[1];
  if (parts) headers["x-amz-mp-parts-count"] = parts;
  return headers;
}
