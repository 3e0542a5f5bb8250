/**
 * The bench's values: deterministic bytes that cost nothing to produce or to check.
 * One pseudo-random block (1 MiB + 4099 bytes, the AES-128-CTR keystream of a fixed
 * key) is made once; a value is that block repeated, starting at an offset derived
 * from its key. Uploads send subarrays of the block (no copy, no generator in the
 * way of the measurement) and downloads are compared byte for byte against it at
 * memory speed, where an md5 of the body would cap a large GET near 1 GB/s on one core.
 */
import { createCipheriv, createHash } from "node:crypto";

const BLOCK_BYTES = (1 << 20) + 4099; // not a power of two: a value's chunks never line up with it
let block: Buffer | undefined;

function theBlock(): Buffer {
  if (!block) {
    const key = createHash("md5").update("kvdb bench").digest();
    block = createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(BLOCK_BYTES));
  }
  return block;
}

/** FNV-1a of the key: where in the block its value starts. */
function offsetOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BLOCK_BYTES;
}

export class Value {
  readonly offset: number;
  private digest: string | undefined;

  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    this.offset = offsetOf(key);
  }

  /** The value as subarrays of the block, each at most `max` bytes. */
  *chunks(max = 1 << 20): Generator<Buffer> {
    const b = theBlock();
    let at = this.offset;
    for (let left = this.size; left > 0; ) {
      const n = Math.min(max, left, BLOCK_BYTES - at);
      yield b.subarray(at, at + n);
      left -= n;
      at = (at + n) % BLOCK_BYTES;
    }
  }

  /** The whole value in one buffer (for small values: one write, one syscall). */
  whole(): Buffer {
    const parts = [...this.chunks()];
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** md5 (hex) of the value; computed once. */
  md5(): string {
    if (this.digest === undefined) {
      const h = createHash("md5");
      for (const c of this.chunks()) h.update(c);
      this.digest = h.digest("hex");
    }
    return this.digest;
  }

  /** Remembers an md5 computed while the value was sent, so md5() need not read it again. */
  knowMd5(md5: string): void {
    this.digest = md5;
  }

  /** Checks a download chunk by chunk; `ok` once every byte matched and the size is right. */
  checker(): Checker {
    return new Checker(this);
  }
}

export class Checker {
  /** Bytes seen so far. */
  seen = 0;
  /** The first offset that differed, or -1. */
  mismatchAt = -1;
  private at: number;

  constructor(private readonly value: Value) {
    this.at = value.offset;
  }

  update(chunk: Uint8Array): void {
    const b = theBlock();
    let from = 0;
    while (from < chunk.byteLength && this.mismatchAt < 0) {
      const n = Math.min(chunk.byteLength - from, BLOCK_BYTES - this.at, Math.max(0, this.value.size - this.seen));
      if (n === 0) {
        this.mismatchAt = this.seen; // more bytes than the value has
        break;
      }
      if (Buffer.compare(chunk.subarray(from, from + n), b.subarray(this.at, this.at + n)) !== 0) this.mismatchAt = this.seen;
      from += n;
      this.seen += n;
      this.at = (this.at + n) % BLOCK_BYTES;
    }
    if (this.mismatchAt >= 0) this.seen += chunk.byteLength - from;
  }

  get ok(): boolean {
    return this.mismatchAt < 0 && this.seen === this.value.size;
  }

  /** Why the download is not the value. */
  get problem(): string {
    if (this.mismatchAt >= 0) return `bytes differ from offset ${this.mismatchAt}`;
    return `got ${this.seen} bytes, expected ${this.value.size}`;
  }
}
