/**
 * MD5 (RFC 1321) in plain JavaScript, for placement's draws (placement.ts): one md5
 * per volume per key, ~1,000 per PUT at 1,000 volumes, of a message of a few dozen
 * bytes. Here that is integer arithmetic on a reused buffer, with no call into the
 * runtime's crypto and no object per hash, several times cheaper than createHash or
 * crypto.hash (docs/PERFORMANCE.md, "Placement at 1,000 volumes"). Not for anything
 * that needs a digest object: it returns only the first 8 bytes, as two words.
 */

const SHIFT = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
const S = Uint8Array.from({ length: 64 }, (_, i) => SHIFT[(i >> 4) * 4 + (i & 3)]);
const G = Uint8Array.from({ length: 64 }, (_, i) => (i < 16 ? i : i < 32 ? 5 * i + 1 : i < 48 ? 3 * i + 5 : 7 * i) & 15);
const M = new Int32Array(16);

/** The digest's first 8 bytes read as two big-endian unsigned words (the last call's). */
export const first8 = { hi: 0, lo: 0 };

const bswap = (x: number) => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/**
 * md5 of `buf[0, len)`; `buf` must have room for the padding (len + 72 bytes), which is
 * written into it. Sets `first8`.
 */
export function md5First8(buf: Uint8Array, len: number): void {
  const total = (((len + 8) >> 6) + 1) << 6;
  buf[len] = 0x80;
  buf.fill(0, len + 1, total);
  const bits = len * 8;
  buf[total - 8] = bits & 0xff;
  buf[total - 7] = (bits >>> 8) & 0xff;
  buf[total - 6] = (bits >>> 16) & 0xff;
  buf[total - 5] = (bits >>> 24) & 0xff;
  // Keys are at most a few KiB: the bit length's upper word stays 0.
  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let o = 0; o < total; o += 64) {
    for (let j = 0; j < 16; j++) {
      const p = o + j * 4;
      M[j] = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    }
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      const f = i < 16 ? (b & c) | (~b & d) : i < 32 ? (d & b) | (~d & c) : i < 48 ? b ^ c ^ d : c ^ (b | ~d);
      const t = (f + a + K[i] + M[G[i]]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((t << S[i]) | (t >>> (32 - S[i])))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  first8.hi = bswap(a0);
  first8.lo = bswap(b0);
}
