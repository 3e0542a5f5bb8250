/**
 * The additional checksums of S3 (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1,
 * -sha256): computed over the bytes as they stream by and compared, base64, with what
 * the client sent in a header or in the aws-chunked trailer.
 */
import { createHash } from "node:crypto";
import { crc32, crc32c, crc64nvme, type Crc } from "./crc.ts";
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
  /** Throws BadDigest unless `expected` (base64, as sent) is what the bytes hash to. */
  verify(expected: string | undefined): void {
    if (expected === undefined) throw new S3Error("InvalidRequest", `the ${headerOf(this.algorithm)} the request announced never came`);
    const got = this.crc.digest().toString("base64");
    if (got !== expected) throw new S3Error("BadDigest", `${headerOf(this.algorithm)} mismatch: the body's is ${got}, the request says ${expected}`);
  }
}
