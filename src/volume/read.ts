/**
 * GET and HEAD of a value: the same answer for an inline value (bytes from the
 * catalog) as for a file (sent by the runtime, zero-copy where it can): 200/206/416,
 * Range, ETag, If-None-Match → 304, Last-Modified, Content-Length.
 */
import { statSync } from "node:fs";
import type { Context } from "hono";
import { fail } from "../http/errors.ts";
import { runtime } from "../runtime/mod.ts";
import type { FileSlice } from "../runtime/types.ts";
import type { Store } from "./store.ts";
import { encodeFields, FIELDS_HEADER, keptHeaders } from "../keys/fields.ts";
import { matchesEtag, parseRange } from "./range.ts";

/** Bytes start..end (inclusive) of a value: a file slice for runtime.sendFile, or inline bytes. */
type Body = (start: number, end: number) => FileSlice | Uint8Array<ArrayBuffer>;

export function readValue(c: Context, store: Store, key: string): Response {
  const entry = store.catalog.get(key);
  if (!entry) return c.body(null, 404, { "content-length": "0" });
  let size: number | undefined;
  let body: Body;
  if (entry.inline) {
    const bytes = store.catalog.bytesOf(key);
    size = bytes?.byteLength;
    body = (start, end) => bytes!.subarray(start, end + 1);
  } else {
    const path = store.blobs.path(key);
    // Synchronous, like the catalog lookup: an inode the kernel has cached costs less
    // than a thread-pool round trip.
    size = statSync(path, { throwIfNoEntry: false })?.size;
    body = (start, end) => ({ path, start, end, size: size! });
  }
  if (size === undefined) return fail(c, 404, entry.inline ? "inline bytes missing" : "blob file missing");
  const etag = `"${entry.md5}"`;
  const headers: Record<string, string> = {
    "accept-ranges": "bytes",
    etag,
    // The master names the value's Content-Type in the URLs it hands out (S3 clients set one).
    "content-type": c.req.query("response-content-type") ?? "application/octet-stream",
    "last-modified": new Date(entry.time).toUTCString(),
    // Content-Encoding, Cache-Control and the like, as the S3 client stored them.
    ...keptHeaders(entry.fields),
  };
  // So that a volume pulling this value (copy.ts) keeps its S3 fields too.
  const fields = encodeFields(entry.fields);
  if (fields) headers[FIELDS_HEADER] = fields;
  if (matchesEtag(c.req.header("if-none-match"), etag)) return send(c, 304, headers, null);
  const range = parseRange(c.req.header("range"), size);
  if (range.kind === "unsatisfiable") {
    return send(c, 416, { ...headers, "content-range": `bytes */${size}`, "content-length": "0" }, null);
  }
  const [status, start, end] = range.kind === "partial" ? [206, range.start, range.end] : [200, 0, size - 1];
  headers["content-length"] = String(end - start + 1);
  if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  // A zero-byte value has no slice to send (start 0, end -1).
  return send(c, status, headers, size === 0 ? null : body(start, end));
}

function send(c: Context, status: number, headers: Record<string, string>, body: ReturnType<Body> | null): Response {
  if (!(body instanceof Uint8Array)) return runtime.sendFile(c, status, headers, body);
  // As sendFile: HEAD gets the headers alone.
  return new Response(c.req.method === "HEAD" ? null : body, { status, headers });
}
