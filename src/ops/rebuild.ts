/**
 * `kvdb rebuild`: reconstructs a lost master index from what the volumes hold, offline
 * (the masters stopped: only one process can open a LevelDB, and PostgreSQL refuses
 * while a master's lease holds).
 *   1. every volume streams its own catalog (/_kvdb/list: key, size, md5, time); each
 *      entry is staged in the index itself, a key's replicas side by side — nothing
 *      is held in memory;
 *   2. one pass over what was staged merges each key's replicas: those that agree
 *      (size and md5) with the majority (ties: the first volume listed) make the live
 *      record, in placement order; a disagreeing replica is reported and recorded as
 *      an orphan, which the master's janitor deletes once it runs. A key found on fewer
 *      volumes than --replicas is owed the rest, as a PUT under --min-replicas records
 *      it (write-policy.ts owedOn): the janitor copies them, and no read goes there. A value written
 *      through S3 is stored under a version name of its key, with its S3 fields
 *      (Content-Type, x-amz-meta-*, multipart ETag) in the volumes' catalogs: the key
 *      gets it back, and when a key has several stored names, one wins and the others
 *      are orphans (rebuild-versions.ts says which);
 *   3. each bucket holding an object written through S3 is recorded again (created at
 *      its oldest such object's time; region ""). The volumes know nothing of a bucket
 *      without such an object: an empty bucket, or one holding only curl-written keys,
 *      is not restored (docs/OPERATIONS.md, "After S3 writes").
 * The index's keys, pending operations and orphans are replaced. S3 multipart uploads in
 * progress are not restored: their parts are deleted by the S3 port's expiry sweep.
 */
import type { Index, RebuildWriter } from "../master/index/index.ts";
import { indexKind, openIndex } from "../master/index/open.ts";
import { VolumeClient } from "../master/volume-client.ts";
import { secureVolumes, VolumeSet } from "../master/volumes.ts";
import { barLine, Bar } from "./progress.ts";
import { RESERVED_PREFIX } from "../keys/keys.ts";
import { candidate, fromStaged, stagedName, winner, type Candidate } from "./rebuild-versions.ts";
import { owedOn } from "../master/write-policy.ts";

export interface RebuildOptions {
  volumes: string[];
  db: string;
  secret?: string;
  /** --replicas of the masters that will serve the index: a key on fewer volumes is owed the rest. */
  replicas: number;
}

export interface RebuildResult {
  keys: number;
  replicas: number;
  conflicts: number;
  /** Keys found on fewer volumes than --replicas, recorded as owed replicas. */
  owed: number;
  /** Buckets recorded again. */
  buckets: number;
  seconds: number;
}

/** Shows progress every this many entries. */
const SHOW_EVERY = 500;

async function open(db: string): Promise<Index> {
  try {
    return await openIndex(db);
  } catch (e) {
    const cause = (e as { cause?: Error }).cause?.message ?? "";
    if (indexKind(db) === "postgres") throw e; // it says what is wrong itself
    throw new Error(`cannot open the index at ${db} (is the master still running? stop it first): ${(e as Error).message} ${cause}`.trim());
  }
}

export async function rebuild(o: RebuildOptions, out: (line: string) => void = console.log): Promise<RebuildResult> {
  const t0 = performance.now();
  const client = new VolumeClient(o.secret, undefined, undefined, secureVolumes(o.volumes));
  const set = new VolumeSet(o.volumes, client);
  await set.check();
  const down = set.all.filter((v) => !v.up);
  if (down.length) throw new Error(`volumes not answering: ${down.map((v) => `${v.name} (${v.error})`).join(", ")}; every volume must be up to rebuild`);
  const index = await open(o.db);
  const bar = new Bar();
  try {
    const writer = await index.rebuild();
    const started = performance.now();
    const show = (label: string, done: number, of: number) => {
      const s = (performance.now() - started) / 1000;
      bar.update(barLine(label, done, of, s > 0 ? done / s : 0));
    };

    // 1. Every volume's catalog, staged.
    const total = set.all.reduce((n, v) => n + v.count, 0);
    let listed = 0;
    for (const [i, v] of set.all.entries()) {
      for await (const e of client.list(v.name)) {
        await writer.stage(stagedName(e.key), i, { size: e.size, md5: e.md5, time: e.time, ...(e.fields ? { fields: e.fields } : {}) });
        if (++listed % SHOW_EVERY === 0) show("rebuild: listing", listed, total);
      }
    }

    // 2. Each stored name's replicas merged; a key's names (consecutive) decided between.
    let keys = 0;
    let conflicts = 0;
    let owed = 0;
    const buckets = new BucketsSeen(index);
    let pending: { key: string; candidates: Candidate[] } | undefined;
    const settle = async () => {
      if (!pending) return;
      const won = winner(pending.candidates);
      const owes = owedOn({ replicas: o.replicas }, won.record.volumes);
      conflicts += await write(writer, pending.key, pending.candidates, won, owes);
      if (owes.owed) owed++;
      if (won.record.blob) await buckets.saw(pending.key, won.record.time);
      if (++keys % SHOW_EVERY === 0) show("rebuild: merging", keys, keys);
    };
    for await (const { key: staged, replicas } of writer.staged()) {
      const { key, name } = fromStaged(staged);
      const c = candidate(key, name, replicas.map((r) => ({ volume: set.all[r.volume].name, replica: r.replica })), set.placement(key));
      if (pending?.key !== key) {
        await settle();
        pending = { key, candidates: [] };
      }
      pending.candidates.push(c);
    }
    await settle();
    await buckets.flush();
    await writer.finish();
    bar.clear();
    const seconds = (performance.now() - t0) / 1000;
    out(
      `rebuild: ${keys} keys from ${listed} replicas on ${set.all.length} volumes in ${seconds.toFixed(1)} s ` +
        `(${Math.round(keys / Math.max(seconds, 1e-3))} keys/s)${conflicts ? `, ${conflicts} disagreeing replica(s) set aside` : ""}` +
        `${owed ? `, ${owed} key(s) on fewer than ${o.replicas} volumes owed replicas` : ""}` +
        `${buckets.count ? `, ${buckets.count} S3 bucket(s)` : ""}; index at ${o.db}`,
    );
    return { keys, replicas: listed, conflicts, owed, buckets: buckets.count, seconds };
  } finally {
    bar.clear();
    set.stop();
    await index.close();
  }
}

/**
 * Writes a key's record from its winning stored name `won`, with the replicas it is
 * `owes` (write-policy.ts owedOn); returns how many replicas were set aside.
 */
async function write(writer: RebuildWriter, key: string, candidates: Candidate[], won: Candidate, owes: { owed?: number }): Promise<number> {
  let aside = 0;
  for (const c of candidates) {
    for (const r of c.disagreeing) {
      console.error(
        `kvdb rebuild: ${c.name} on ${r.volume}: ${r.replica.size} bytes md5 ${r.replica.md5} disagrees with ${c.record.volumes.join(",")} ` +
          `(${c.record.size} bytes md5 ${c.record.md5}); kept the majority, the other copy will be deleted`,
      );
      await writer.owe({ volume: r.volume, name: c.name });
      aside++;
    }
    // A name that lost to a newer or more complete one: a leftover of an S3 overwrite.
    if (c !== won) for (const volume of c.record.volumes) await writer.owe({ volume, name: c.name });
  }
  await writer.write(key, { ...won.record, ...owes });
  return aside;
}

/**
 * The buckets of S3-written objects, recorded as the keys go by in order (a bucket's
 * keys are consecutive, so only the current bucket is held), unless the index has it.
 */
class BucketsSeen {
  count = 0;
  private current: { name: string; created: number } | undefined;
  constructor(private readonly index: Index) {}

  async saw(key: string, time: number): Promise<void> {
    if (key.startsWith(RESERVED_PREFIX)) return; // the servers' own keys (S3 parts) are in no bucket
    const end = key.indexOf("/", 1);
    if (end < 2) return; // an S3 object's key is /<bucket>/<object>
    const name = key.slice(1, end);
    if (this.current?.name === name) return void (this.current.created = Math.min(this.current.created, time));
    await this.flush();
    this.current = { name, created: time };
  }

  async flush(): Promise<void> {
    const b = this.current;
    this.current = undefined;
    if (!b || (await this.index.tables.get("buckets", b.name))) return;
    await this.index.tables.put("buckets", b.name, { created: b.created, region: "" });
    this.count++;
  }
}
