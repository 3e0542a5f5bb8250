/**
 * S3's errors: a code, a status and a message, answered as S3's XML
 * (<Error><Code>NoSuchKey</Code>…</Error>), without a body for HEAD. The master's
 * errors (src/errors.ts: a volume down, a body cut short, a bucket deleted meanwhile)
 * get the S3 code that says the same, here and only here (asS3Error).
 */
import type { Context, ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { answerText, KvdbError, type ErrorKind } from "../errors.ts";
import { HttpError, noteFailure } from "../http/errors.ts";
import { TooLarge } from "../wire/content-length.ts";
import { el, xmlDoc, xmlRoot } from "./xml.ts";

const CODES = {
  AccessDenied: [403, "Access Denied"],
  AuthorizationQueryParametersError: [400, "The presigned URL's X-Amz-* parameters are not valid"],
  BadDigest: [400, "The Content-MD5 or checksum you specified did not match what we received"],
  BucketAlreadyExists: [409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system"],
  BucketAlreadyOwnedByYou: [409, "Your previous request to create the named bucket succeeded and you already own it"],
  ConditionalRequestConflict: [409, "A conflicting operation occurred. If using PutObject you can retry the request"],
  BucketNotEmpty: [409, "The bucket you tried to delete is not empty"],
  EntityTooLarge: [400, "Your proposed upload exceeds the maximum allowed object size"],
  EntityTooSmall: [400, "Your proposed upload is smaller than the minimum allowed object size"],
  IncompleteBody: [400, "You did not provide the number of bytes specified by the Content-Length HTTP header"],
  InsufficientStorage: [507, "Not enough free space on the volumes"],
  InternalError: [500, "We encountered an internal error. Please try again"],
  InvalidAccessKeyId: [403, "The AWS Access Key Id you provided does not exist in our records"],
  InvalidArgument: [400, "Invalid Argument"],
  InvalidBucketName: [400, "The specified bucket is not valid"],
  InvalidDigest: [400, "The Content-MD5 or checksum you specified is not valid"],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  InvalidPart: [400, "One or more of the specified parts could not be found, or its entity tag did not match"],
  InvalidPartNumber: [416, "The requested partnumber is not satisfiable"],
  InvalidPartOrder: [400, "The list of parts was not in ascending order"],
  InvalidRange: [416, "The requested range is not satisfiable"],
  InvalidRequest: [400, "Invalid Request"],
  MalformedXML: [400, "The XML you provided was not well-formed or did not validate against our published schema"],
  MethodNotAllowed: [405, "The specified method is not allowed against this resource"],
  MissingContentLength: [411, "You must provide the Content-Length HTTP header"],
  NoSuchBucket: [404, "The specified bucket does not exist"],
  NoSuchKey: [404, "The specified key does not exist"],
  NoSuchLifecycleConfiguration: [404, "The lifecycle configuration does not exist"],
  NoSuchUpload: [404, "The specified multipart upload does not exist"],
  NotImplemented: [501, "A header or query you provided implies functionality that is not implemented"],
  OperationAborted: [409, "A conflicting operation is currently in progress against this resource. Please try again"],
  PreconditionFailed: [412, "At least one of the preconditions you specified did not hold"],
  RequestTimeTooSkewed: [403, "The difference between the request time and the current time is too large"],
  ServiceUnavailable: [503, "Please reduce your request rate"],
  SignatureDoesNotMatch: [403, "The request signature we calculated does not match the signature you provided"],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed"],
} as const satisfies Record<string, readonly [number, string]>;

export type S3Code = keyof typeof CODES;

export class S3Error extends HttpError {
  constructor(
    readonly code: S3Code,
    message: string = CODES[code][1],
  ) {
    super(CODES[code][0] as ContentfulStatusCode, message);
  }
}

/** S3's code for each kind of the master's errors (src/errors.ts). */
const CODE_OF: Record<ErrorKind, S3Code> = {
  invalid: "InvalidRequest",
  "not-found": "NoSuchKey",
  exists: "OperationAborted",
  busy: "OperationAborted",
  // The only entry a write needs is its object's bucket (names.ts inBucket): deleted while the object was written.
  gone: "NoSuchBucket",
  unavailable: "ServiceUnavailable",
  full: "InsufficientStorage",
  "too-large": "EntityTooLarge",
  "length-required": "MissingContentLength",
  aborted: "IncompleteBody",
};

/** The S3 code for an HttpError of the master's write path (one not yet a KvdbError). */
function codeOfStatus(e: HttpError): S3Code {
  if (e instanceof TooLarge) return "EntityTooLarge";
  if (e.status === 409) return "OperationAborted";
  if (e.status === 503) return "ServiceUnavailable";
  if (e.status === 507) return "InsufficientStorage";
  return e.status < 500 ? "InvalidRequest" : "InternalError";
}

/** Any error as S3 answers it: its code, its status, its message (anything unexpected: InternalError). */
export function asS3Error(e: unknown): S3Error {
  if (e instanceof S3Error) return e;
  if (e instanceof KvdbError) return new S3Error(CODE_OF[e.kind], answerText(e));
  if (e instanceof HttpError) return new S3Error(codeOfStatus(e), answerText(e));
  return new S3Error("InternalError", `internal error: ${(e as Error).message}`);
}

/** The XML error answer; `resource`: the path asked for. */
export function errorResponse(c: Context, e: S3Error, resource: string): Response {
  const headers: Record<string, string> = { "content-type": "application/xml" };
  // A 405 must say what is allowed (RFC 9110).
  if (e.status === 405) headers.allow = "GET, HEAD, PUT, POST, DELETE";
  if (c.req.method === "HEAD") return new Response(null, { status: e.status, headers });
  return new Response(xmlDoc("Error", errorBody(c, e, resource), false), { status: e.status, headers });
}

function errorBody(c: Context, e: S3Error, resource: string): string {
  return el("Code", e.code) + el("Message", answerText(e)) + el("Resource", resource) + el("RequestId", c.res.headers.get("x-amz-request-id") ?? "");
}

/** The <Error> element alone (no declaration): for an error inside a 200 already under way (keep-alive.ts). */
export function errorDocument(c: Context, e: unknown, resource: string): string {
  return xmlRoot("Error", errorBody(c, asS3Error(e), resource), false);
}

/**
 * The S3 app's onError: S3's XML for every error; what it said is noted for the error
 * log (observe/log.ts serverErrors logs every 5xx), with the stack of anything unexpected.
 */
export const renderS3Error: ErrorHandler = (e, c) => {
  const s3 = asS3Error(e);
  const expected = e instanceof HttpError || e instanceof KvdbError;
  return noteFailure(errorResponse(c, s3, c.req.path), expected ? { message: answerText(s3) } : { message: s3.message, cause: e.stack });
};
