/**
 * AWS Signature Version 4 as S3 uses it: the canonical request, the string to sign,
 * the signing key, and the chained signatures of an aws-chunked body. Pure functions:
 * auth.ts decides what a request must have signed, chunked.ts checks its chunks.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Uint8Array | string, data: string) => createHmac("sha256", key).update(data).digest();

/** What a signature is made with: the key derived for one day, region and service, and the request's time and scope. */
export interface Signer {
  key: Buffer;
  /** The request's time, ISO 8601 basic (20130524T000000Z). */
  amzDate: string;
  /** date/region/service/aws4_request */
  scope: string;
}

export function signer(secret: string, amzDate: string, scope: string): Signer {
  const [date, region, service] = scope.split("/");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  return { key, amzDate, scope };
}

export function sign(s: Signer, stringToSign: string): string {
  return createHmac("sha256", s.key).update(stringToSign).digest("hex");
}

/** The signature of a request from its canonical form. */
export function signRequest(s: Signer, canonicalRequest: string | Uint8Array): string {
  return sign(s, `${ALGORITHM}\n${s.amzDate}\n${s.scope}\n${sha256Hex(canonicalRequest)}`);
}

/** The signature of one aws-chunked chunk, chained to the previous one (the request's signature for the first). */
export function signChunk(s: Signer, previous: string, chunkSha256: string): string {
  return sign(s, `${ALGORITHM}-PAYLOAD\n${s.amzDate}\n${s.scope}\n${previous}\n${EMPTY_SHA256}\n${chunkSha256}`);
}

/** The signature of an aws-chunked body's trailer (`canonical`: "name:value\n" per trailing header). */
export function signTrailer(s: Signer, previous: string, canonical: string): string {
  return sign(s, `${ALGORITHM}-TRAILER\n${s.amzDate}\n${s.scope}\n${previous}\n${sha256Hex(canonical)}`);
}

export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ as %XX (and / too unless kept). */
export function uriEncode(s: string, keepSlash = false): string {
  const encoded = encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, "/") : encoded;
}

/** The query's name/value pairs, percent-decoded ("+" is a plus, as AWS clients mean it). */
export function queryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery.split("&").map((part) => {
    const eq = part.indexOf("=");
    const [name, value] = eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)];
    return [decodeURIComponent(name), decodeURIComponent(value)];
  });
}

/** The canonical query string: pairs encoded, sorted by name then value; `skip` leaves one out (a presigned URL's signature). */
export function canonicalQuery(pairs: [string, string][], skip?: string): string {
  return pairs
    .filter(([name]) => name !== skip)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

/** The canonical request; `headers` maps each signed header (lower-case) to its value as sent. */
export function canonicalRequest(method: string, path: string, query: string, headers: [string, string][], payloadHash: string): string {
  const lines = headers.map(([name, value]) => `${name}:${value.trim().replace(/\s+/g, " ")}\n`).join("");
  return `${method}\n${path}\n${query}\n${lines}\n${headers.map(([name]) => name).join(";")}\n${payloadHash}`;
}
