/**
 * Decodes a LevelDB write-ahead log (NNNNNN.log) as far as it was written: 32 KiB
 * blocks of records (7-byte header: crc32c, length, type FULL/FIRST/MIDDLE/LAST), each
 * whole record a WriteBatch (sequence, count, then Put/Delete entries). A record
 * split across blocks is joined again, so a key or value that straddles a block edge
 * is still found. Checksums are not verified: the bytes come from a syscall trace.
 */

const BLOCK = 32768;
const HEADER = 7;
const enum Fragment {
  Full = 1,
  First = 2,
  Middle = 3,
  Last = 4,
}

export interface LogPut {
  key: Buffer;
  value: Buffer;
  /** Offset in the log just past the record that holds this Put (its last byte is at end - 1). */
  end: number;
}

/** The whole records in `log`, with the offset just past each one's last fragment. */
function records(log: Buffer): { data: Buffer; end: number }[] {
  const out: { data: Buffer; end: number }[] = [];
  let parts: Buffer[] = [];
  for (let pos = 0; pos < log.length; ) {
    const left = BLOCK - (pos % BLOCK);
    if (left < HEADER) {
      pos += left; // the block's zero trailer
      continue;
    }
    if (pos + HEADER > log.length) break;
    const length = log.readUInt16LE(pos + 4);
    const type = log[pos + 6];
    const start = pos + HEADER;
    pos = start + length;
    if (pos > log.length) break; // cut short: not written yet
    const data = log.subarray(start, pos);
    if (type === Fragment.Full) out.push({ data, end: pos });
    else if (type === Fragment.First) parts = [data];
    else if (type === Fragment.Middle) parts.push(data);
    else if (type === Fragment.Last) {
      out.push({ data: Buffer.concat([...parts, data]), end: pos });
      parts = [];
    }
  }
  return out;
}

function varint(b: Buffer, at: number): [number, number] {
  let n = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = b[at++];
    n |= (byte & 0x7f) << shift;
    if (byte < 0x80) return [n >>> 0, at];
  }
}

/** Every Put in the log, in order. */
export function logPuts(log: Buffer): LogPut[] {
  const out: LogPut[] = [];
  for (const { data, end } of records(log)) {
    const count = data.readUInt32LE(8);
    let at = 12;
    for (let i = 0; i < count && at < data.length; i++) {
      const tag = data[at++];
      let len;
      [len, at] = varint(data, at);
      const key = data.subarray(at, (at += len));
      if (tag !== 1) continue; // a Delete has no value
      [len, at] = varint(data, at);
      out.push({ key, value: data.subarray(at, (at += len)), end });
    }
  }
  return out;
}

/** Whether a LevelDB key is `key`, directly or in a sublevel ("!name!key"). */
export function isKey(levelKey: Buffer, key: string): boolean {
  const k = levelKey.toString();
  return k === key || k.endsWith(`!${key}`);
}
