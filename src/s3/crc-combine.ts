/**
 * The CRC of two byte strings one after the other from the CRCs of each and the second's
 * length, as zlib's crc32_combine computes it (multiplication modulo the polynomial in
 * the reflected bit order): a multipart object's full-object CRC from its parts' CRCs
 * (S3's x-amz-checksum-type FULL_OBJECT), without reading a byte. Holds for the three
 * CRCs of crc.ts, all reflected and initialised and finished with all ones.
 */

/** A reflected CRC: its width in bits and its polynomial, reflected. */
interface Poly {
  width: bigint;
  poly: bigint;
}

export const CRC32_POLY: Poly = { width: 32n, poly: 0xedb88320n };
export const CRC32C_POLY: Poly = { width: 32n, poly: 0x82f63b78n };
export const CRC64NVME_POLY: Poly = { width: 64n, poly: 0x9a6c9329ac4bc9b5n };

/** a·b modulo the polynomial (zlib's multmodp). */
function multiply({ width, poly }: Poly, a: bigint, b: bigint): bigint {
  let m = 1n << (width - 1n);
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) return p;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
}

/** x^(8·bytes) modulo the polynomial (zlib's x2nmodp, squaring as it goes). */
function shift(c: Poly, bytes: number): bigint {
  let p = 1n << (c.width - 1n); // x^0
  let square = 1n << (c.width - 2n); // x^1
  for (let n = BigInt(bytes) * 8n; n > 0n; n >>= 1n) {
    if (n & 1n) p = multiply(c, square, p);
    square = multiply(c, square, square);
  }
  return p;
}

/** The CRC of A then B (big-endian digests, as crc.ts gives them) from crc(A), crc(B) and B's length. */
export function combine(c: Poly, first: Buffer, second: Buffer, secondLength: number): Buffer {
  const a = BigInt(`0x${first.toString("hex")}`);
  const b = BigInt(`0x${second.toString("hex")}`);
  const value = multiply(c, shift(c, secondLength), a) ^ b;
  return Buffer.from(value.toString(16).padStart(Number(c.width) / 4, "0"), "hex");
}
