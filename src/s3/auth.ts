/**
 * Who may use the S3 API: requests signed with the one key pair (--s3-access-key,
 * --s3-secret-key), by AWS Signature Version 4 in the Authorization header or in a
 * presigned URL's X-Amz-* query. No anonymous access. Any region is accepted: the
 * signature is checked with the region the client signed for. What the signature says
 * about the body (x-amz-content-sha256) is returned for body.ts to enforce.
 */
import type { Context } from "hono";
import type { RequestFacts } from "../runtime/request.ts";
import { S3Error, type S3Code } from "./errors.ts";
import type { Reason } from "../auth/failures.ts";
import { ALGORITHM, canonicalQuery, canonicalRequest, queryPairs, sameSignature, signer, signRequest, uriEncode, type Signer } from "./sigv4.ts";

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** What the signature says of the body. */
export type Payload =
  | { kind: "sha256"; hex: string }
  | { kind: "unsigned" }
  /** aws-chunked; `chunks`: each chunk signed, chained from `seed` (the request's signature). */
  | { kind: "chunked"; trailer: boolean; chunks?: { signer: Signer; seed: string } };

/** A refusal at S3's door, with the reason it is counted by (auth/failures.ts, app.ts). */
export class Refused extends S3Error {
  constructor(
    code: S3Code,
    readonly reason: Reason,
    message?: string,
  ) {
    super(code, message);
  }
}

/** What a client signing with Signature Version 2 (Authorization: AWS key:signature, or ?AWSAccessKeyId=…&Signature=…) is told. */
const SIGV2 =
  "SigV2 is not supported, sign with SigV4 (AWS4-HMAC-SHA256): boto3 Config(signature_version='s3v4'), " +
  "AWS CLI `aws configure set default.s3.signature_version s3v4`, rclone any region but other-v2-signature";

/** Clocks may differ this much (S3's own limit). */
const SKEW_MS = 15 * 60_000;
/** A presigned URL is good for at most a week, as in S3. */
const MAX_EXPIRES_S = 7 * 86400;

/** The request target as the client sent it: the path still percent-encoded, and the query. */
export function target(c: Context): { path: string; query: string } {
  const url = c.req.url;
  const q = url.indexOf("?");
  const query = q < 0 ? "" : url.slice(q + 1);
  const raw = (c.env as RequestFacts | undefined)?.rawPath;
  if (raw !== undefined) return { path: raw, query };
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return { path: url.slice(start, q < 0 ? undefined : q), query };
}

/** 20130524T000000Z → ms since the epoch; NaN if malformed. */
function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

const toAmzDate = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");

function payloadOf(hash: string, s: Signer, seed: string): Payload {
  switch (hash) {
    case "UNSIGNED-PAYLOAD":
      return { kind: "unsigned" };
    case "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
      return { kind: "chunked", trailer: true };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
      return { kind: "chunked", trailer: false, chunks: { signer: s, seed } };
    case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
      return { kind: "chunked", trailer: true, chunks: { signer: s, seed } };
  }
  if (/^[0-9a-f]{64}$/.test(hash)) return { kind: "sha256", hex: hash };
  throw new S3Error("InvalidArgument", `x-amz-content-sha256 ${JSON.stringify(hash)} is not supported`);
}

/** Checks the signature; the path is tried as sent, then as SigV4 would encode it (clients differ on characters such as !*'()). */
function checkSignature(c: Context, s: Signer, pairs: [string, string][], signedHeaders: string, payloadHash: string, signature: string, skip?: string): void {
  const { path } = target(c);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // not decodable: only the path as sent can match
  }
  const headers = signedHeaders.split(";").map((name): [string, string] => [name, c.req.header(name) ?? ""]);
  const query = canonicalQuery(pairs, skip);
  for (const p of new Set([path, uriEncode(decoded, true)])) {
    const canonical = canonicalRequest(c.req.method, p, query, headers, payloadHash);
    if (sameSignature(signRequest(s, canonical), signature)) return;
    // A header value that is not ASCII arrives as bytes (runtimes read them as Latin-1):
    // botocore sends UTF-8 and signs those bytes; Node's clients send Latin-1 and sign its UTF-8 (above).
    if (/[^\x00-\x7f]/.test(canonical) && sameSignature(signRequest(s, Buffer.from(canonical, "latin1")), signature)) return;
  }
  throw new Refused("SignatureDoesNotMatch", "bad-secret");
}

/** The credential scope of a request signed with our access key: date/region/s3/aws4_request. */
function scopeOf(credential: string, creds: Credentials): string {
  const slash = credential.indexOf("/");
  const scope = credential.slice(slash + 1);
  if (slash < 0 || !/^\d{8}\/[^/]+\/[^/]+\/aws4_request$/.test(scope)) throw new Refused("InvalidArgument", "malformed", `malformed credential ${JSON.stringify(credential)}`);
  if (credential.slice(0, slash) !== creds.accessKey) throw new Refused("InvalidAccessKeyId", "unknown-key");
  return scope;
}

/**
 * Verifies a request's signature and says what it promised of the body; throws S3's
 * error otherwise. `payloadDefault`: the payload hash signed when x-amz-content-sha256 is
 * absent (S3 requires the header; the curl API takes curl 7's signatures, which sign the
 * empty body's hash without sending it: curl-sigv4.ts).
 */
export function authenticate(c: Context, creds: Credentials, now = Date.now(), payloadDefault?: string): Payload {
  let pairs: [string, string][];
  try {
    pairs = queryPairs(target(c).query);
  } catch {
    throw new Refused("InvalidArgument", "malformed", "invalid percent-encoding in the query");
  }
  const param = (name: string) => pairs.find(([n]) => n === name)?.[1];
  if (param("X-Amz-Algorithm") !== undefined) return presigned(c, creds, pairs, param, now);

  const header = c.req.header("authorization");
  if (param("AWSAccessKeyId") !== undefined || header?.startsWith("AWS ")) throw new Refused("InvalidRequest", "malformed", SIGV2);
  if (!header) throw new Refused("AccessDenied", "missing", "anonymous access is not allowed: sign requests with AWS Signature Version 4");
  if (!header.startsWith(`${ALGORITHM} `)) throw new Refused("AccessDenied", "malformed", "only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported");
  const fields = new Map(
    header
      .slice(ALGORITHM.length + 1)
      .split(",")
      .map((f) => f.trim().split("=") as [string, string]),
  );
  const [credential, signedHeaders, signature] = ["Credential", "SignedHeaders", "Signature"].map((f) => fields.get(f));
  if (!credential || !signedHeaders || !signature) throw new Refused("InvalidArgument", "malformed", "the Authorization header needs Credential, SignedHeaders and Signature");
  const scope = scopeOf(credential, creds);

  const amz = c.req.header("x-amz-date");
  const time = amz !== undefined ? parseAmzDate(amz) : Date.parse(c.req.header("date") ?? "");
  if (Number.isNaN(time)) throw new Refused("AccessDenied", "malformed", "the request needs a valid X-Amz-Date or Date header");
  if (Math.abs(now - time) > SKEW_MS) throw new Refused("RequestTimeTooSkewed", "expired");
  const payloadHash = c.req.header("x-amz-content-sha256") ?? payloadDefault;
  if (!payloadHash) throw new Refused("InvalidRequest", "malformed", "missing required header for this request: x-amz-content-sha256");
  const s = signer(creds.secretKey, amz ?? toAmzDate(time), scope);
  checkSignature(c, s, pairs, signedHeaders, payloadHash, signature);
  return payloadOf(payloadHash, s, signature);
}

/** A presigned URL: the signature and its validity in the query, the body unsigned. */
function presigned(c: Context, creds: Credentials, pairs: [string, string][], param: (n: string) => string | undefined, now: number): Payload {
  if (param("X-Amz-Algorithm") !== ALGORITHM) throw new Refused("AccessDenied", "malformed", "only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported");
  const [credential, amzDate, expires, signedHeaders, signature] = ["X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"].map(param);
  if (!credential || !amzDate || !expires || !signedHeaders || !signature) throw new Refused("AccessDenied", "malformed", "a presigned URL needs every X-Amz-* parameter");
  const scope = scopeOf(credential, creds);
  const time = parseAmzDate(amzDate);
  const seconds = Number(expires);
  if (Number.isNaN(time)) throw new Refused("AccessDenied", "malformed", "X-Amz-Date must be like 20130524T000000Z");
  // S3 answers a malformed X-Amz-Expires 400 AuthorizationQueryParametersError, not an expired URL's 403.
  if (!Number.isSafeInteger(seconds)) throw new Refused("AuthorizationQueryParametersError", "malformed", "X-Amz-Expires should be a number");
  if (seconds < 0) throw new Refused("AuthorizationQueryParametersError", "malformed", "X-Amz-Expires must be non-negative");
  if (seconds < 1 || seconds > MAX_EXPIRES_S) throw new Refused("AuthorizationQueryParametersError", "malformed", `X-Amz-Expires must be from 1 to ${MAX_EXPIRES_S} seconds`);
  if (time - now > SKEW_MS) throw new Refused("AccessDenied", "expired", "Request is not valid yet");
  if (now > time + seconds * 1000) throw new Refused("AccessDenied", "expired", "Request has expired");
  const payloadHash = param("X-Amz-Content-Sha256") ?? "UNSIGNED-PAYLOAD";
  const s = signer(creds.secretKey, amzDate, scope);
  checkSignature(c, s, pairs, signedHeaders, payloadHash, signature, "X-Amz-Signature");
  const payload = payloadOf(payloadHash, s, signature);
  return payload.kind === "chunked" ? { kind: "unsigned" } : payload;
}
