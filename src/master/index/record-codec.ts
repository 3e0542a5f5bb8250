/**
 * A KeyRecord as LevelDB stores it (level.ts): compact bytes, so that ten million keys
 * weigh well under 100 bytes each on disk (docs/PERFORMANCE.md, "Index size").
 *
 *   0x01                       format (JSON, what kvdb wrote before, starts with `{` = 0x7b)
 *   state                      one byte: writing, live, unlinked, deleting
 *   flags                      one byte: which of the fields below are present
 *   version, size, time        unsigned varints (7 bits a byte, exact up to 2^53)
 *   md5                        16 bytes when it is 32 lowercase hex digits, else a string
 *   volumes                    a varint count, then each volume's id (volume-ids.ts)
 *   blob, type, etag, meta     strings (varint length + UTF-8), only when present
 *                              (type, etag, meta: the record's `s3` fields)
 *   direct                     a varint deadline and a string token, only when present
 *   owed                       a varint, only when present (replicas still owed)
 *
 * A record this layout cannot hold exactly (a number that is not a non-negative safe
 * integer) is stored as JSON, which decode reads as it always did. JSON keeps the form
 * kvdb wrote before records had an `s3` sub-record: its fields flat beside the others.
 */
import type { ValueFields } from "../../keys/fields.ts";
import type { KeyRecord, State } from "./index.ts";

const FORMAT = 0x01;
const JSON_START = 0x7b; // "{"
const STATES: State[] = ["writing", "live", "unlinked", "deleting"];

const MD5_BINARY = 1;
const MD5_TEXT = 2;
const BLOB = 4;
const TYPE = 8;
const META = 16;
const ETAG = 32;
const DIRECT = 64;
const OWED = 128;

const HEX_MD5 = /^[0-9a-f]{32}$/;

/** How volume names become small ids and back (volume-ids.ts keeps the table). */
export interface VolumeIdTable {
  idOf(name: string): number;
  nameOf(id: number): string;
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

class Writer {
  private buf = Buffer.allocUnsafe(64);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** Arithmetic, not bit operations: those cut numbers to 32 bits. */
  varint(n: number): void {
    this.room(8);
    while (n >= 0x80) {
      this.buf[this.at++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.at++] = n;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
  }

  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.varint(b.length);
    this.bytes(b);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    if (this.at >= this.buf.length) throw new Error("index record: truncated");
    return this.buf[this.at++];
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new Error("index record: varint too long");
    }
  }

  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new Error("index record: truncated");
    const b = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.at, n);
    this.at += n;
    return b;
  }

  string(): string {
    return this.bytes(this.varint()).toString("utf8");
  }

  end(): void {
    if (this.at !== this.buf.length) throw new Error("index record: trailing bytes");
  }
}

/** A record in the JSON form: the `s3` fields flat beside the others. */
type Flat = Omit<KeyRecord, "s3" | "busy"> & ValueFields;

function flat(record: KeyRecord): Flat {
  const { busy: _, s3, ...rest } = record;
  return { ...rest, ...s3 };
}

/** A record read from the JSON form: `type`, `meta`, `etag` (those present) gathered into `s3`. */
function lifted(stored: Flat): KeyRecord {
  const { type, meta, etag, ...record } = stored;
  if (type === undefined && meta === undefined && etag === undefined) return record;
  return { ...record, s3: { ...(type !== undefined ? { type } : {}), ...(meta !== undefined ? { meta } : {}), ...(etag !== undefined ? { etag } : {}) } };
}

/** The stored form of `record`; `busy` is not stored (level.ts never sets it). */
export function encodeRecord(record: KeyRecord, ids: VolumeIdTable): Buffer {
  const state = STATES.indexOf(record.state);
  if (state < 0 || !isCount(record.version) || !isCount(record.size) || !isCount(record.time) || (record.direct && !isCount(record.direct.deadline)) || (record.owed !== undefined && !isCount(record.owed))) return Buffer.from(JSON.stringify(flat(record)));
  const { type, meta, etag } = record.s3 ?? {};
  const md5Binary = HEX_MD5.test(record.md5);
  const flags =
    (md5Binary ? MD5_BINARY : MD5_TEXT) |
    (record.blob !== undefined ? BLOB : 0) |
    (type !== undefined ? TYPE : 0) |
    (meta !== undefined ? META : 0) |
    (etag !== undefined ? ETAG : 0) |
    (record.direct !== undefined ? DIRECT : 0) |
    (record.owed !== undefined ? OWED : 0);
  const w = new Writer();
  w.byte(FORMAT);
  w.byte(state);
  w.byte(flags);
  w.varint(record.version);
  w.varint(record.size);
  w.varint(record.time);
  if (md5Binary) w.bytes(Buffer.from(record.md5, "hex"));
  else w.string(record.md5);
  w.varint(record.volumes.length);
  for (const v of record.volumes) w.varint(ids.idOf(v));
  if (record.blob !== undefined) w.string(record.blob);
  if (type !== undefined) w.string(type);
  if (etag !== undefined) w.string(etag);
  if (meta !== undefined) {
    const entries = Object.entries(meta);
    w.varint(entries.length);
    for (const [name, value] of entries) {
      w.string(name);
      w.string(value);
    }
  }
  if (record.direct !== undefined) {
    w.varint(record.direct.deadline);
    w.string(record.direct.token);
  }
  if (record.owed !== undefined) w.varint(record.owed);
  return w.done();
}

/** A stored record: the compact form, or the JSON kvdb wrote before it (and writes for odd numbers). */
export function decodeRecord(stored: Uint8Array, ids: VolumeIdTable): KeyRecord {
  if (stored[0] === JSON_START) {
    const record = lifted(JSON.parse(Buffer.from(stored.buffer, stored.byteOffset, stored.length).toString("utf8")) as Flat);
    if (record.version === undefined) record.version = 1; // written before records had versions
    return record;
  }
  const r = new Reader(stored);
  const format = r.byte();
  if (format !== FORMAT) throw new Error(`index record: unknown format ${format}`);
  const state = STATES[r.byte()];
  if (!state) throw new Error("index record: unknown state");
  const flags = r.byte();
  const version = r.varint();
  const size = r.varint();
  const time = r.varint();
  const md5 = flags & MD5_BINARY ? r.bytes(16).toString("hex") : r.string();
  const volumes: string[] = [];
  for (let n = r.varint(); n > 0; n--) volumes.push(ids.nameOf(r.varint()));
  const record: KeyRecord = { state, volumes, size, md5, time, version };
  if (flags & BLOB) record.blob = r.string();
  if (flags & (TYPE | ETAG | META)) {
    const s3: ValueFields = {};
    if (flags & TYPE) s3.type = r.string();
    if (flags & ETAG) s3.etag = r.string();
    if (flags & META) {
      const pairs: [string, string][] = [];
      for (let n = r.varint(); n > 0; n--) pairs.push([r.string(), r.string()]);
      s3.meta = Object.fromEntries(pairs); // own properties, even one named __proto__, as JSON.parse makes them
    }
    record.s3 = s3;
  }
  if (flags & DIRECT) record.direct = { deadline: r.varint(), token: r.string() };
  if (flags & OWED) record.owed = r.varint();
  r.end();
  return record;
}
