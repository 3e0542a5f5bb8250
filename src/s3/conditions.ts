/**
 * Conditional requests (RFC 9110 §13.2.2, as S3 applies them): If-Match and
 * If-Unmodified-Since fail with 412; If-None-Match and If-Modified-Since make a GET or
 * HEAD 304. The same order serves CopyObject's x-amz-copy-source-if-* headers, where
 * any failure is a 412.
 */
import type { KeyRecord } from "../master/values.ts";
import { etagOf } from "./metadata.ts";

export type Verdict = "ok" | "precondition failed" | "not modified";

/** Entity tags in a header match the value's (strong comparison; "*" matches any). */
function matches(header: string, etag: string): boolean {
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag.replace(/^W\//, "") === etag || `"${tag}"` === etag;
  });
}

/** Seconds since the epoch of an HTTP date; undefined if it is not one. */
function seconds(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const ms = Date.parse(header);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** `header(name)` reads the request's conditional headers (prefixed for a copy source). */
export function evaluate(record: KeyRecord, header: (name: string) => string | undefined): Verdict {
  const etag = etagOf(record);
  const modified = Math.floor(record.time / 1000);
  const ifMatch = header("if-match");
  if (ifMatch !== undefined) {
    if (!matches(ifMatch, etag)) return "precondition failed";
  } else {
    const since = seconds(header("if-unmodified-since"));
    if (since !== undefined && modified > since) return "precondition failed";
  }
  const ifNoneMatch = header("if-none-match");
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch, etag)) return "not modified";
  } else {
    const since = seconds(header("if-modified-since"));
    if (since !== undefined && modified <= since) return "not modified";
  }
  return "ok";
}
