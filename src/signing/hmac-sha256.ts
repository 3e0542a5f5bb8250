/**
 * HMAC-SHA256 (RFC 2104 over FIPS 180-4's SHA-256) in plain JavaScript, for signing.ts.
 * A signed redirect is the master's hottest path, and the runtimes' createHmac builds
 * an object and sets up the key on every call. Here the key's inner and outer states
 * are computed once per secret, so a URL's signature is two or three compressions on
 * reused arrays (docs/PERFORMANCE.md, "Signed redirects"; npm run bench:sign-cost).
 * tests/signing.test.ts checks it against node:crypto and RFC 4231's vectors.
 */

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);
const encoder = new TextEncoder();
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Compresses the 64-byte block at `buf[at]` into `h`. */
function compress(h: Int32Array, buf: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) W[i] = (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3];
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0];
  let b = h[1];
  let c = h[2];
  let d = h[3];
  let e = h[4];
  let f = h[5];
  let g = h[6];
  let hh = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + b) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + hh) | 0;
}

/**
 * Pads `buf[0, len)` as SHA-256's last blocks for a message of `prefix + len` bytes
 * (`prefix`: the bytes already compressed) and compresses them into `h`. `buf` must
 * have room for len + 72 bytes.
 */
function finish(h: Int32Array, buf: Uint8Array, len: number, prefix: number): void {
  const total = (((len + 8) >> 6) + 1) << 6;
  buf[len] = 0x80;
  buf.fill(0, len + 1, total - 4);
  const bits = (prefix + len) * 8; // messages here stay far below 2^32 bits
  buf[total - 4] = bits >>> 24;
  buf[total - 3] = (bits >>> 16) & 0xff;
  buf[total - 2] = (bits >>> 8) & 0xff;
  buf[total - 1] = bits & 0xff;
  for (let at = 0; at < total; at += 64) compress(h, buf, at);
}

/** The state after one 64-byte block of the key XORed with `pad`. */
function keyed(key: Uint8Array, pad: number): Int32Array {
  const block = new Uint8Array(64);
  for (let i = 0; i < 64; i++) block[i] = (key[i] ?? 0) ^ pad;
  const h = IV.slice();
  compress(h, block, 0);
  return h;
}

function sha256(message: Uint8Array): Uint8Array {
  const buf = new Uint8Array(message.byteLength + 72);
  buf.set(message);
  const h = IV.slice();
  finish(h, buf, message.byteLength, 0);
  return wordsToBytes(h, new Uint8Array(32));
}

function wordsToBytes(h: Int32Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < 8; i++) {
    out[i * 4] = h[i] >>> 24;
    out[i * 4 + 1] = (h[i] >>> 16) & 0xff;
    out[i * 4 + 2] = (h[i] >>> 8) & 0xff;
    out[i * 4 + 3] = h[i] & 0xff;
  }
  return out;
}

/** HMAC-SHA256 under one key. Not reentrant across threads (there are none here). */
export class HmacSha256 {
  private readonly inner: Int32Array;
  private readonly outer: Int32Array;
  private readonly h = new Int32Array(8);
  private readonly digestBytes = new Uint8Array(32);
  private readonly outerBlock = new Uint8Array(64 + 8);
  private buf = new Uint8Array(256);

  constructor(key: string | Uint8Array) {
    let k = typeof key === "string" ? encoder.encode(key) : key;
    if (k.byteLength > 64) k = sha256(k);
    this.inner = keyed(k, 0x36);
    this.outer = keyed(k, 0x5c);
  }

  /** The MAC of `message` (its UTF-8 bytes); the array is reused by the next call. */
  digest(message: string): Uint8Array {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; 72 more for the padding.
    const room = message.length * 3 + 72;
    if (this.buf.byteLength < room) this.buf = new Uint8Array(room);
    const { written } = encoder.encodeInto(message, this.buf);
    const h = this.h;
    h.set(this.inner);
    finish(h, this.buf, written, 64);
    wordsToBytes(h, this.outerBlock);
    h.set(this.outer);
    finish(h, this.outerBlock, 32, 64);
    return wordsToBytes(h, this.digestBytes);
  }

  /** The MAC of `message` in unpadded base64url (43 characters), as JWTs and presigned URLs carry it. */
  base64url(message: string): string {
    const d = this.digest(message);
    let s = "";
    let i = 0;
    for (; i + 3 <= 32; i += 3) {
      const n = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      s += BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63] + BASE64URL[(n >>> 6) & 63] + BASE64URL[n & 63];
    }
    const n = (d[30] << 16) | (d[31] << 8);
    return s + BASE64URL[n >>> 18] + BASE64URL[(n >>> 12) & 63] + BASE64URL[(n >>> 6) & 63];
  }
}
