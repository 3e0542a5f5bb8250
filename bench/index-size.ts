/**
 * What a key costs the LevelDB index on disk: writes N synthetic live records (keys
 * like /data/00a3f1c2/1234567/photo.jpg, 3 replicas on 100 volumes named host:port,
 * random md5, sizes 1 MB – 1 GB) into a fresh index twice — as kvdb stored them before
 * (JSON, the keys sublevel written directly, byte for byte what level.ts wrote) and
 * compact (through LevelIndex, record-codec.ts) — compacts each (compactRange over
 * everything, snappy on), and prints the bytes on disk per key and the write rate; then
 * times a scan of every compact record (what the index reads at open after a crash).
 *
 *   npm run bench:index-size -- --keys 1000000 [--only compact|json] [--json]
 */
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { ClassicLevel } from "classic-level";
import { tempDir } from "../harness/paths.ts";
import type { NewRecord } from "../src/master/index/index.ts";
import { LevelIndex } from "../src/master/index/level.ts";

const { values: args } = parseArgs({ options: { keys: { type: "string", default: "1000000" }, only: { type: "string" }, json: { type: "boolean", default: false } } });
const KEYS = Number(args.keys);
if (!Number.isSafeInteger(KEYS) || KEYS < 1) throw new Error("--keys must be a positive integer");

const VOLUMES = Array.from({ length: 100 }, (_, i) => `10.0.${i >> 4}.${(i & 15) + 10}:3001`);
const T0 = 1795000000000;

/** The i-th synthetic key and record; keys come in sorted order, as a rebuild writes them. */
function synthetic(i: number): [string, NewRecord] {
  const key = `/data/${(i >>> 12).toString(16).padStart(8, "0")}/${String(i).padStart(8, "0")}/photo.jpg`;
  const v = (i * 7919) % VOLUMES.length;
  const record: NewRecord = {
    state: "live",
    volumes: [VOLUMES[v], VOLUMES[(v + 1) % VOLUMES.length], VOLUMES[(v + 2) % VOLUMES.length]],
    size: 1_000_000 + ((i * 2654435761) % 999_000_000),
    md5: randomBytes(16).toString("hex"),
    time: T0 + i * 37,
  };
  return [key, record];
}

function bytesUnder(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/** Fills a fresh index with `fill` (timed), measures its size on disk, then runs `then` on it. */
async function measure(name: string, fill: (dir: string) => Promise<void>, then?: (dir: string) => Promise<void>): Promise<{ codec: string; bytesPerKey: number; keysPerS: number; seconds: number }> {
  const dir = tempDir(`index-size-${name}`);
  try {
    const t0 = performance.now();
    await fill(join(dir, "db"));
    const seconds = (performance.now() - t0) / 1000;
    const bytesPerKey = bytesUnder(join(dir, "db")) / KEYS;
    await then?.(join(dir, "db"));
    return { codec: name, bytesPerKey, keysPerS: KEYS / seconds, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Before compact records: JSON with version 1, as level.ts wrote it (sublevel "keys", valueEncoding json). */
async function fillJson(location: string): Promise<void> {
  const db = new ClassicLevel<string, string>(location);
  await db.open();
  const keys = db.sublevel<string, object>("keys", { valueEncoding: "json" });
  let batch = db.batch();
  for (let i = 0; i < KEYS; i++) {
    const [key, record] = synthetic(i);
    batch.put(key, { ...record, version: 1 }, { sublevel: keys });
    if (batch.length === 1000) {
      await batch.write();
      batch = db.batch();
    }
  }
  await batch.write({ sync: true });
  await db.compactRange("\x00", "\xff");
  await db.close();
}

/** Compact records, through LevelIndex's rebuild writer (batches of 1000, as kvdb rebuild writes). */
async function fillCompact(location: string): Promise<void> {
  const index = new LevelIndex(location);
  await index.open();
  const writer = await index.rebuild();
  for (let i = 0; i < KEYS; i++) await writer.write(...synthetic(i));
  await writer.finish();
  await index.compact();
  await index.close();
}

/** What the first start after a crash reads to count the keys (state-counts.ts): every record, decoded. */
async function scanCompact(location: string): Promise<void> {
  const reopened = new LevelIndex(location);
  await reopened.open();
  const t0 = performance.now();
  let n = 0;
  for await (const _ of reopened.scan()) n++;
  scanSeconds = (performance.now() - t0) / 1000;
  if (n !== KEYS) throw new Error(`scanned ${n} records, wrote ${KEYS}`);
  await reopened.close();
}

/** How long a scan of every compact record took (scanCompact). */
let scanSeconds = NaN;

const runs = [];
if (args.only !== "compact") runs.push(await measure("json", fillJson));
if (args.only !== "json") runs.push(await measure("compact", fillCompact, scanCompact));
for (const r of runs) {
  console.log(`${r.codec.padEnd(8)} ${KEYS} keys: ${r.bytesPerKey.toFixed(1)} bytes/key on disk after compaction; written at ${Math.round(r.keysPerS)} keys/s (${r.seconds.toFixed(1)} s with the compaction)`);
}
if (args.only !== "json") console.log(`a scan of every compact record (what a recount at open reads): ${scanSeconds.toFixed(1)} s, ${Math.round(KEYS / scanSeconds)} keys/s`);
if (args.json) console.log(JSON.stringify({ keys: KEYS, scan_keys_per_s: Math.round(KEYS / scanSeconds), runs: runs.map((r) => ({ codec: r.codec, bytes_per_key: Math.round(r.bytesPerKey * 10) / 10, keys_per_s: Math.round(r.keysPerS) })) }));
process.exit(0);
