/**
 * The additional checksums of S3 (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1,
 * -sha256): computed over the bytes as they stream by and compared, base64, with what
 * the client sent in a header or in the aws-chunked trailer; then kept with the value
 * (in its meta under kvdb's own name ":checksum", as keys/fields.ts keeps headers) and answered to a GET or HEAD with x-amz-checksum-mode: ENABLED. A multipart
 * object's is made from its parts' (compose): COMPOSITE, the checksum of the parts'
 * checksums and "-N", or FULL_OBJECT, the CRC of all its bytes (crc-combine.ts).
 */
import { createHash } from "node:crypto";
import { KVDB_META_MARK, type ValueFields } from "../keys/fields.ts";
import type { KeyRecord } from "../master/values.ts";
import { crc32, crc32c, crc64nvme, type Crc } from "./crc.ts";
import { combine, CRC32_POLY, CRC32C_POLY, CRC64NVME_POLY } from "./crc-combine.ts";
import { S3Error } from "./errors.ts";

export const ALGORITHMS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

const HEADER = "x-amz-checksum-";
export const headerOf = (a: Algorithm) => `${HEADER}${a}`;

/** The algorithm a header such as x-amz-checksum-crc32 names, if it is one. */
export function algorithmOf(header: string): Algorithm | undefined {
  const name = header.toLowerCase();
  return ALGORITHMS.find((a) => name === headerOf(a));
}

function hasher(a: Algorithm): Crc {
  if (a === "crc32") return crc32();
  if (a === "crc32c") return crc32c();
  if (a === "crc64nvme") return crc64nvme();
  const h = createHash(a);
  return { update: (chunk) => void h.update(chunk), digest: () => h.digest() };
}

/** One checksum being computed over a body, to be compared with the client's at the end. */
export class Checksum {
  private readonly crc: Crc;
  constructor(readonly algorithm: Algorithm) {
    this.crc = hasher(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.crc.update(chunk);
  }
  /** The checksum of the bytes so far, base64 (once: the hash is finished). */
  value(): string {
    return this.crc.digest().toString("base64");
  }
  /** Throws BadDigest unless `expected` (base64, as sent) is what the bytes hash to. */
  verify(expected: string | undefined): void {
    if (expected === undefined) throw new S3Error("InvalidRequest", `the ${headerOf(this.algorithm)} the request announced never came`);
    const got = this.value();
    if (got !== expected) throw new S3Error("BadDigest", `${headerOf(this.algorithm)} mismatch: the body's is ${got}, the request says ${expected}`);
  }
}

/** How a value's checksum covers it: all its bytes, or its parts' checksums (a multipart object's, "-N"). */
export type ChecksumType = "FULL_OBJECT" | "COMPOSITE";

/** A value's checksum as kept: meta[KEPT] = "<algorithm> <type> <base64>". */
export interface Kept {
  algorithm: Algorithm;
  type: ChecksumType;
  value: string;
}

const KEPT = `${KVDB_META_MARK}checksum`;

/**
 * Keeps in `fields` the checksum a body was verified against (body.ts `verified`, filled
 * once the body is read): `fields` are read again when the value is switched in
 * (master/values.ts put), so a trailer's checksum is kept too.
 */
export function keepVerified(fields: ValueFields, verified: Record<string, string>): void {
  const [header, value] = Object.entries(verified)[0] ?? [];
  const algorithm = header && algorithmOf(header);
  if (algorithm) fields.meta = { ...fields.meta, [KEPT]: `${algorithm} FULL_OBJECT ${value}` };
}

/** `fields` with a composed checksum. */
export const withChecksum = (fields: ValueFields, k: Kept): ValueFields => ({ ...fields, meta: { ...fields.meta, [KEPT]: `${k.algorithm} ${k.type} ${k.value}` } });

/** The checksum kept with a value, if any. */
export function keptOf(r: KeyRecord): Kept | undefined {
  const [algorithm, type, value] = r.s3?.meta?.[KEPT]?.split(" ") ?? [];
  return value ? { algorithm: algorithm as Algorithm, type: type as ChecksumType, value } : undefined;
}

/**
 * The parts' checksums of a multipart object, in its meta (":partsums", base64 values
 * joined by ","), for GetObjectAttributes and GetObject ?partNumber=N (attributes.ts,
 * objects.ts). They ride with the value to the volumes in one header (keys/fields.ts),
 * so they are kept only up to PART_SUMS_MAX characters (about 90 SHA-256 or 450 CRC32
 * parts); an object of more parts answers its parts without their checksums.
 */
const PART_SUMS = `${KVDB_META_MARK}partsums`;
const PART_SUMS_MAX = 4096;

/** `fields` with its parts' checksums (each of the object's algorithm: compose checked), if they fit. */
export function withPartChecksums(fields: ValueFields, parts: [number, KeyRecord][]): ValueFields {
  const coded = parts.map(([, r]) => keptOf(r)?.value ?? "").join(",");
  return coded.length > PART_SUMS_MAX ? fields : { ...fields, meta: { ...fields.meta, [PART_SUMS]: coded } };
}

/** The checksum of part `n` (from 1) of a multipart object, if it was kept. */
export function partChecksumOf(r: KeyRecord, n: number): Kept | undefined {
  const k = keptOf(r);
  const value = r.s3?.meta?.[PART_SUMS]?.split(",")[n - 1];
  return k && value ? { ...k, value } : undefined;
}

/** What a GET or HEAD answers with x-amz-checksum-mode: ENABLED, given the checksum of what it answers (keptOf, partChecksumOf). */
export function checksumHeaders(k: Kept | undefined): Record<string, string> {
  return k ? { [headerOf(k.algorithm)]: k.value, "x-amz-checksum-type": k.type } : {};
}

/** The element of S3's XML answers that names a checksum: ChecksumCRC32, ChecksumSHA256… */
export const elementOf = (a: Algorithm) => `Checksum${a.toUpperCase()}`;

/** A multipart upload's checksum as CreateMultipartUpload asks for it (x-amz-checksum-algorithm, x-amz-checksum-type); undefined: none. */
export function askedChecksum(header: (name: string) => string | undefined): { algorithm: Algorithm; type: ChecksumType } | undefined {
  const asked = header("x-amz-checksum-algorithm");
  const type = header("x-amz-checksum-type")?.toUpperCase();
  if (asked === undefined) {
    if (type !== undefined) throw new S3Error("InvalidRequest", "x-amz-checksum-type needs x-amz-checksum-algorithm");
    return undefined;
  }
  const algorithm = algorithmOf(headerOf(asked.toLowerCase() as Algorithm));
  if (!algorithm) throw new S3Error("InvalidRequest", `x-amz-checksum-algorithm ${JSON.stringify(asked)} is not one of ${ALGORITHMS.join(", ")}`);
  const crc = algorithm.startsWith("crc");
  const chosen = (type ?? (algorithm === "crc64nvme" ? "FULL_OBJECT" : "COMPOSITE")) as ChecksumType;
  if (chosen !== "FULL_OBJECT" && chosen !== "COMPOSITE") throw new S3Error("InvalidRequest", "x-amz-checksum-type must be FULL_OBJECT or COMPOSITE");
  if (chosen === "FULL_OBJECT" && !crc) throw new S3Error("InvalidRequest", `a FULL_OBJECT checksum needs a CRC, not ${algorithm}`);
  if (chosen === "COMPOSITE" && algorithm === "crc64nvme") throw new S3Error("InvalidRequest", "CRC64NVME checksums are FULL_OBJECT");
  return { algorithm, type: chosen };
}

const POLY = { crc32: CRC32_POLY, crc32c: CRC32C_POLY, crc64nvme: CRC64NVME_POLY } as const;

/** A multipart object's checksum from its parts' (each kept when it was uploaded); InvalidPart if a part has none of that algorithm. */
export function compose(asked: { algorithm: Algorithm; type: ChecksumType }, parts: [number, KeyRecord][]): Kept {
  const raw = parts.map(([n, r]) => {
    const k = keptOf(r);
    if (k?.algorithm !== asked.algorithm) throw new S3Error("InvalidPart", `part ${n} was uploaded without ${headerOf(asked.algorithm)}`);
    return Buffer.from(k.value, "base64");
  });
  if (asked.type === "COMPOSITE") {
    const h = hasher(asked.algorithm);
    for (const b of raw) h.update(b);
    return { ...asked, value: `${h.digest().toString("base64")}-${parts.length}` };
  }
  const poly = POLY[asked.algorithm as keyof typeof POLY];
  const whole = raw.reduce<Buffer>((acc, b, i) => (i === 0 ? b : combine(poly, acc, b, parts[i][1].size)), Buffer.alloc(0));
  return { ...asked, value: whole.toString("base64") };
}
