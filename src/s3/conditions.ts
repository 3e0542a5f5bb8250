/**
 * Conditional requests (RFC 9110 §13.2.2, as S3 applies them): If-Match and
 * If-Unmodified-Since fail with 412; If-None-Match and If-Modified-Since make a GET or
 * HEAD 304. The same order serves CopyObject's x-amz-copy-source-if-* headers, where
 * any failure is a 412. The conditions of writes and deletes (below) are checked by the
 * master in the step that changes the object, never on a read before it.
 */
import type { KeyRecord, Precondition } from "../master/values.ts";
import { asS3Error, S3Error } from "./errors.ts";
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

/** How a request's headers are read (names in lower case). */
type Headers = (name: string) => string | undefined;

/** Answers 501 for conditional headers an operation does not honour: a condition is never silently ignored. */
function refuseOthers(header: Headers, honoured: string[], operation: string): void {
  const asked = CONDITIONAL.find((name) => !honoured.includes(name) && header(name) !== undefined);
  if (asked) throw new S3Error("NotImplemented", `${asked} is not supported on ${operation} by kvdb`);
}

/** Every conditional header of S3 (the copy source's are CopyObject's own). */
const CONDITIONAL = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "x-amz-if-match-last-modified-time", "x-amz-if-match-size", "x-amz-if-match-initiated-time"];

/**
 * The conditions of a write (PutObject, CopyObject, CompleteMultipartUpload): If-None-Match
 * fails (412) if the object exists with a matching ETag ("*": at all); If-Match needs it
 * to exist (else 404 NoSuchKey) with a matching ETag (else 412). Checked by the master in
 * the compare-and-set that makes the new value the object's (master/values.ts put), so two
 * writers with If-None-Match: * never both succeed. Undefined: no condition.
 */
export function writeCondition(header: Headers, operation: string): Precondition | undefined {
  refuseOthers(header, ["if-match", "if-none-match"], operation);
  const ifMatch = header("if-match");
  const ifNoneMatch = header("if-none-match");
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (current) => {
    const live = current?.state === "live" ? current : undefined;
    if (ifMatch !== undefined) {
      if (!live) throw new S3Error("NoSuchKey", "If-Match: the object does not exist");
      if (!matches(ifMatch, etagOf(live))) throw new S3Error("PreconditionFailed", `If-Match: the object's ETag is ${etagOf(live)}`);
    }
    if (ifNoneMatch !== undefined && live && matches(ifNoneMatch, etagOf(live))) throw new S3Error("PreconditionFailed", "If-None-Match: the object exists");
  };
}

/** What a delete may be made conditional on (DeleteObject's headers, DeleteObjects' <Object> elements). */
export interface DeleteIf {
  etag?: string;
  /** An HTTP date or ISO 8601 time; compared to the second. */
  modified?: string;
  size?: string;
}

/**
 * The conditions of a delete: it fails with 412 if the object exists and its ETag, its
 * Last-Modified or its size is not the one given; a missing object is no failure (the
 * delete answers as without conditions). Checked on the record the delete claims by
 * compare-and-set (objects.ts deleteKey). Undefined: no condition.
 */
export function deleteCondition(given: DeleteIf): Precondition | undefined {
  const { etag, modified, size } = given;
  if (etag === undefined && modified === undefined && size === undefined) return undefined;
  const when = modified === undefined ? undefined : Date.parse(modified);
  if (when !== undefined && Number.isNaN(when)) throw new S3Error("InvalidArgument", `${JSON.stringify(modified)} is not a time`);
  if (size !== undefined && !/^\d+$/.test(size.trim())) throw new S3Error("InvalidArgument", `${JSON.stringify(size)} is not a size`);
  return (current) => {
    if (current?.state !== "live") return;
    if (etag !== undefined && !matches(etag, etagOf(current))) throw new S3Error("PreconditionFailed", `the object's ETag is ${etagOf(current)}`);
    if (when !== undefined && Math.floor(when / 1000) !== Math.floor(current.time / 1000)) throw new S3Error("PreconditionFailed", "the object's Last-Modified is another");
    if (size !== undefined && Number(size) !== current.size) throw new S3Error("PreconditionFailed", `the object's size is ${current.size}`);
  };
}

/** DeleteObject's conditions, from its headers. */
export function deleteHeaders(header: Headers): Precondition | undefined {
  refuseOthers(header, ["if-match", "x-amz-if-match-last-modified-time", "x-amz-if-match-size"], "DeleteObject");
  return deleteCondition({ etag: header("if-match"), modified: header("x-amz-if-match-last-modified-time"), size: header("x-amz-if-match-size") });
}

/** Any conditional header on an operation that has none: 501. */
export function noConditions(header: Headers, operation: string): void {
  refuseOthers(header, [], operation);
}

/** A conditional write or delete that lost to another operation on the key answers ConditionalRequestConflict (409), as S3 does: the client reads the object again and retries. */
export async function conflictsAs<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    const s3 = asS3Error(e);
    throw s3.code === "OperationAborted" ? new S3Error("ConditionalRequestConflict", s3.message) : e;
  }
}
