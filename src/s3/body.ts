/**
 * An S3 request's body as the bytes of the value: aws-chunked framing removed
 * (chunked.ts), and at its end every promise the request made about those bytes
 * checked before the write can complete: the SHA-256 it signed, an x-amz-checksum-*
 * (in a header or the trailer). A broken promise throws an S3Error from the body, so
 * the write stores nothing. (Content-MD5 is checked against the md5 the volumes report.)
 */
import { createHash } from "node:crypto";
import type { Context } from "hono";
import { declaredLength, type DeclaredLength } from "../wire/content-length.ts";
import { declaredMd5 } from "../wire/content-md5.ts";
import { requestBody } from "../runtime/request.ts";
import type { Payload } from "./auth.ts";
import { algorithmOf, ALGORITHMS, Checksum, headerOf, type Algorithm } from "./checksums.ts";
import { decodeChunked } from "./chunked.ts";
import { S3Error } from "./errors.ts";

const NO_BYTES: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

export interface ValueBody {
  declared: DeclaredLength;
  body: AsyncIterable<Uint8Array>;
  /** Once the body is read: the checksum header it was verified against, to answer with (S3 does). */
  verified: Record<string, string>;
}

/**
 * The checksum the request announces, and where its value is: a header (unless
 * `headers` is false: CompleteMultipartUpload's are of the object, complete-checksum.ts), or the trailer.
 */
function announcedChecksum(c: Context, trailers: Map<string, string>, headers: boolean): { checksum: Checksum; expected: () => string | undefined } | undefined {
  const inHeader = headers ? ALGORITHMS.find((a) => c.req.header(headerOf(a)) !== undefined) : undefined;
  if (inHeader) return { checksum: new Checksum(inHeader), expected: () => c.req.header(headerOf(inHeader)) };
  const trailer = c.req.header("x-amz-trailer")?.trim();
  if (!trailer) return undefined;
  const a: Algorithm | undefined = algorithmOf(trailer);
  if (!a) throw new S3Error("InvalidRequest", `x-amz-trailer ${JSON.stringify(trailer)} is not a supported checksum`);
  return { checksum: new Checksum(a), expected: () => trailers.get(headerOf(a)) };
}

/** How long the value is: x-amz-decoded-content-length for an aws-chunked body, else the request's own length. */
function valueLength(c: Context, chunked: boolean): DeclaredLength {
  if (!chunked) return declaredLength(c);
  const decoded = c.req.header("x-amz-decoded-content-length");
  if (decoded === undefined) return { kind: "chunked" };
  return /^\d{1,16}$/.test(decoded.trim()) ? { kind: "length", bytes: Number(decoded) } : { kind: "invalid" };
}

export function valueBody(c: Context, payload: Payload, checksumHeaders = true): ValueBody {
  const chunked = payload.kind === "chunked";
  const declared = valueLength(c, chunked);
  if (declared.kind === "invalid") throw new S3Error("InvalidArgument", "invalid Content-Length or x-amz-decoded-content-length");
  if (declared.kind === "none") throw new S3Error("MissingContentLength");
  const trailers = new Map<string, string>();
  const raw = requestBody(c) ?? NO_BYTES;
  const bytes = payload.kind === "chunked" ? decodeChunked(raw, payload, trailers) : raw;
  const announced = announcedChecksum(c, trailers, checksumHeaders);
  const verified: Record<string, string> = {};
  return { declared, body: checked(bytes, payload.kind === "sha256" ? payload.hex : undefined, announced, verified), verified };
}

async function* checked(
  bytes: AsyncIterable<Uint8Array>,
  sha256: string | undefined,
  announced: ReturnType<typeof announcedChecksum>,
  verified: Record<string, string>,
): AsyncGenerator<Uint8Array> {
  const hash = sha256 === undefined ? undefined : createHash("sha256");
  for await (const chunk of bytes) {
    hash?.update(chunk);
    announced?.checksum.update(chunk);
    yield chunk;
  }
  if (hash && hash.digest("hex") !== sha256) throw new S3Error("XAmzContentSHA256Mismatch");
  if (!announced) return;
  const expected = announced.expected();
  announced.checksum.verify(expected);
  verified[headerOf(announced.checksum.algorithm)] = expected!;
}

/**
 * A small body (an XML document), whole, checked like a value's and against Content-MD5;
 * `max` bytes at most; "" if there is none. `checksumHeaders`: whether x-amz-checksum-*
 * headers are of this body (not CompleteMultipartUpload's).
 */
export async function smallBody(c: Context, payload: Payload, max = 1 << 20, checksumHeaders = true): Promise<string> {
  if (payload.kind !== "chunked" && declaredLength(c).kind === "none") return "";
  const md5 = declaredMd5(c);
  if (md5.kind === "invalid") throw new S3Error("InvalidDigest");
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of valueBody(c, payload, checksumHeaders).body) {
    if ((size += chunk.byteLength) > max) throw new S3Error("InvalidRequest", `the request body is larger than ${max} bytes`);
    parts.push(chunk);
  }
  const body = Buffer.concat(parts);
  if (md5.kind === "md5" && createHash("md5").update(body).digest("hex") !== md5.hex) throw new S3Error("BadDigest");
  return body.toString("utf8");
}
