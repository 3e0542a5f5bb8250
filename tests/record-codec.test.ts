/**
 * Unit tests of the LevelDB index's record codec (src/master/index/record-codec.ts):
 * every field combination round-trips exactly, numbers up to 2^53, unicode, S3 version
 * names; JSON records as kvdb wrote them before are still read; the compact form is
 * small.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { ValueFields } from "../src/keys/fields.ts";
import type { KeyRecord, State } from "../src/master/index/index.ts";
import { decodeRecord, encodeRecord, type VolumeIdTable } from "../src/master/index/record-codec.ts";
import { versionName } from "../src/keys/names.ts";

/** An id table in memory, as volume-ids.ts hands ids out (0, 1, 2… in order of first use). */
function table(): VolumeIdTable & { names: string[] } {
  const names: string[] = [];
  return {
    names,
    idOf: (name) => (names.includes(name) ? names.indexOf(name) : names.push(name) - 1),
    nameOf: (id) => {
      if (names[id] === undefined) throw new Error(`unknown volume id ${id}`);
      return names[id];
    },
  };
}

const STATES: State[] = ["writing", "live", "unlinked", "deleting"];
const MD5 = "0123456789abcdef0123456789abcdef";
const base = (state: State): KeyRecord => ({ state, volumes: ["127.0.0.1:3001", "127.0.0.1:3002", "volume-7.example.com:13003"], size: 1 << 20, md5: MD5, time: 1795000000123, version: 3 });

const roundTrip = (record: KeyRecord, ids = table()) => decodeRecord(encodeRecord(record, ids), ids);

test("every state with every combination of blob and the s3 fields type, meta and etag round-trips exactly", () => {
  const optional: Partial<KeyRecord & ValueFields>[] = [
    { blob: versionName("/b/photo.jpg") },
    { type: "image/jpeg; charset=\"x\"" },
    { meta: { author: "Zoë", "x-empty": "", "12": "digits first" } },
    { etag: "9b2cf535f27731c974343645a3985328-3" },
  ];
  let n = 0;
  for (const state of STATES) {
    for (let mask = 0; mask < 1 << optional.length; mask++) {
      const record: KeyRecord = { ...base(state) };
      optional.forEach((o, i) => {
        if (!(mask & (1 << i))) return;
        if (o.blob) record.blob = o.blob;
        else record.s3 = { ...record.s3, ...o };
      });
      const back = roundTrip(record);
      assert.equal(back, record, JSON.stringify(record));
      assert.equal(Object.keys(back).sort(), Object.keys(record).sort(), "no field appears that was absent");
      n++;
    }
  }
  assert.is(n, 64);
});

test("numbers up to 2^53 - 1, zero, and 2^32 boundaries are exact", () => {
  for (const n of [0, 1, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 5 * 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    const record = { ...base("live"), size: n, time: n, version: Math.max(1, n) };
    assert.equal(roundTrip(record), record, String(n));
  }
});

test("a number the layout cannot hold exactly is stored as JSON and read back the same", () => {
  for (const odd of [{ size: 2 ** 53 }, { time: 1.5 }, { size: -1 }]) {
    const record = { ...base("live"), ...odd };
    const stored = encodeRecord(record, table());
    assert.is(stored[0], "{".charCodeAt(0));
    assert.equal(roundTrip(record), record);
  }
});

test("an md5 that is not 32 lowercase hex digits (a write in flight has \"\") is kept as text", () => {
  for (const md5 of ["", "ABCDEF0123456789ABCDEF0123456789", "not an md5"]) {
    const record = { ...base("writing"), md5 };
    assert.equal(roundTrip(record), record, md5);
  }
});

test("no volumes, one volume, and a volume named twice keep their order", () => {
  for (const volumes of [[], ["a:1"], ["b:2", "a:1", "b:2"]]) {
    const record = { ...base("live"), volumes };
    assert.equal(roundTrip(record), record);
  }
});

test("unicode in blob, type and metadata; a meta name __proto__ stays an own property", () => {
  const s3 = { type: "text/plain; name=ü", meta: JSON.parse('{"__proto__":"p","名前":"値 𝄞"}'), etag: "\u00e9" };
  const record: KeyRecord = { ...base("live"), blob: versionName("/𝄞/ü/日本語"), s3 };
  const back = roundTrip(record);
  assert.equal(back, record);
  assert.is(Object.getPrototypeOf(back.s3!.meta), Object.prototype);
  assert.ok(Object.hasOwn(back.s3!.meta!, "__proto__"));
});

test("a direct write's terms (deadline, token) round-trip with a version name; a record without them has none", () => {
  const record: KeyRecord = { ...base("writing"), md5: "", blob: versionName("/big"), direct: { deadline: 1795000090123, token: "S66pw8CxfT43jqAy8vSGNw" } };
  assert.equal(roundTrip(record), record);
  assert.is("direct" in roundTrip(base("writing")), false);
});

test("the replicas a record is owed (--min-replicas) round-trip, with every other field; a record without them, as every older one, owes none", () => {
  const record: KeyRecord = { ...base("live"), volumes: ["127.0.0.1:3001", "127.0.0.1:3003"], blob: versionName("/owed"), direct: { deadline: 1795000090123, token: "t" }, owed: 1 };
  assert.equal(roundTrip(record), record);
  assert.equal(roundTrip({ ...record, owed: 300 }), { ...record, owed: 300 });
  assert.is("owed" in roundTrip(base("live")), false);
});

test("busy is not stored (only a shared store sets it)", () => {
  const back = roundTrip({ ...base("live"), busy: true });
  assert.is(back.busy, undefined);
});

test("volumes are named by the id table: ids given once, a record read with another table resolves through it", () => {
  const ids = table();
  encodeRecord(base("live"), ids);
  encodeRecord({ ...base("live"), volumes: ["new:9", "127.0.0.1:3001"] }, ids);
  assert.equal(ids.names, ["127.0.0.1:3001", "127.0.0.1:3002", "volume-7.example.com:13003", "new:9"]);
  const stored = encodeRecord(base("live"), ids);
  assert.throws(() => decodeRecord(stored, table()), /unknown volume id 0/);
});

test("JSON as kvdb wrote it before (S3's fields flat beside the others): read with them as the record's s3, and a record without a version reads as version 1", () => {
  const plain = { state: "live", volumes: ["127.0.0.1:3001"], size: 5, md5: MD5, time: 1700000000000, version: 4, blob: "/_kvdb/v/x" };
  const old = { ...plain, type: "a/b", meta: { k: "v" }, etag: "e-2" };
  assert.equal(decodeRecord(Buffer.from(JSON.stringify(old)), table()), { ...plain, s3: { type: "a/b", meta: { k: "v" }, etag: "e-2" } });
  assert.equal(decodeRecord(Buffer.from(JSON.stringify({ ...plain, etag: "e-2" })), table()), { ...plain, s3: { etag: "e-2" } });
  assert.equal(decodeRecord(Buffer.from(JSON.stringify(plain)), table()), plain, "no s3 when there were none");
  const { version: _, ...unversioned } = plain;
  assert.equal(decodeRecord(Buffer.from(JSON.stringify(unversioned)), table()), { ...unversioned, version: 1 });
});

test("a record stored as JSON today keeps that old form: S3's fields flat", () => {
  const record: KeyRecord = { ...base("live"), size: 2 ** 53, s3: { type: "a/b", etag: "e-2" } };
  const stored = JSON.parse(encodeRecord(record, table()).toString("utf8"));
  assert.is(stored.s3, undefined);
  assert.is(stored.type, "a/b");
  assert.is(stored.etag, "e-2");
  assert.equal(roundTrip(record), record);
});

test("a damaged record is an error, never a wrong record", () => {
  const ids = table();
  const stored = encodeRecord({ ...base("live"), s3: { type: "x" } }, ids);
  assert.throws(() => decodeRecord(stored.subarray(0, stored.length - 1), ids), /truncated/);
  assert.throws(() => decodeRecord(Buffer.concat([stored, Buffer.from([0])]), ids), /trailing/);
  assert.throws(() => decodeRecord(Buffer.from([9, 1, 1]), ids), /unknown format/);
});

test("compact: a 3-replica live record is under 40 bytes, against over 150 as JSON", () => {
  const record = base("live");
  const stored = encodeRecord(record, table());
  assert.ok(stored.length < 40, `${stored.length} bytes`);
  assert.ok(Buffer.byteLength(JSON.stringify(record)) > 150);
});

test.run();
