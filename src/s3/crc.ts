/**
 * The CRCs S3 clients send as x-amz-checksum-*: CRC-32 (zlib's), CRC-32C (Castagnoli)
 * and CRC-64/NVME, all reflected, initialised and finished with all ones. Table-driven,
 * one byte at a time; CRC-32 uses zlib's native code where the runtime has it.
 * Each digest is the big-endian value, as S3 wants it before base64.
 */
import * as zlib from "node:zlib";

export interface Crc {
  update(chunk: Uint8Array): void;
  digest(): Buffer;
}

function table32(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const CRC32C = table32(0x82f63b78);
const CRC32 = table32(0xedb88320);
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function crc32With(table: Uint32Array): Crc {
  let crc = 0xffffffff;
  return {
    update(chunk) {
      let c = crc;
      for (let i = 0; i < chunk.length; i++) c = table[(c ^ chunk[i]) & 0xff] ^ (c >>> 8);
      crc = c;
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
      return out;
    },
  };
}

export function crc32(): Crc {
  if (!nativeCrc32) return crc32With(CRC32);
  let value = 0;
  return {
    update: (chunk) => void (value = nativeCrc32(chunk, value)),
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value >>> 0);
      return out;
    },
  };
}

export const crc32c = (): Crc => crc32With(CRC32C);

/** CRC-64/NVME's table as two 32-bit halves (BigInt per byte would be far slower). */
const [CRC64_HI, CRC64_LO] = (() => {
  const poly = 0x9a6c9329ac4bc9b5n;
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    hi[n] = Number(c >> 32n);
    lo[n] = Number(c & 0xffffffffn);
  }
  return [hi, lo];
})();

export function crc64nvme(): Crc {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  return {
    update(chunk) {
      let h = hi;
      let l = lo;
      for (let i = 0; i < chunk.length; i++) {
        const t = (l ^ chunk[i]) & 0xff;
        l = CRC64_LO[t] ^ ((l >>> 8) | (h << 24));
        h = CRC64_HI[t] ^ (h >>> 8);
      }
      hi = h;
      lo = l;
    },
    digest() {
      const out = Buffer.alloc(8);
      out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
      out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
      return out;
    },
  };
}
