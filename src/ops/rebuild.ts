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
 *      an orphan, which the master's janitor deletes once it runs.
 * The index's keys, pending operations and orphans are replaced.
 */
import type { Index, NewRecord, RebuildWriter, Replica } from "../master/index/index.ts";
import { indexKind, openIndex } from "../master/index/open.ts";
import { VolumeClient } from "../master/volume-client.ts";
import { VolumeSet } from "../master/volumes.ts";
import { barLine, Bar } from "./progress.ts";

export interface RebuildOptions {
  volumes: string[];
  db: string;
  secret?: string;
}

export interface RebuildResult {
  keys: number;
  replicas: number;
  conflicts: number;
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
  const client = new VolumeClient(o.secret);
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
        await writer.stage(e.key, i, { size: e.size, md5: e.md5, time: e.time });
        if (++listed % SHOW_EVERY === 0) show("rebuild: listing", listed, total);
      }
    }

    // 2. Each key's replicas merged into its record.
    let keys = 0;
    let conflicts = 0;
    for await (const { key, replicas } of writer.staged()) {
      conflicts += await merge(writer, set, key, replicas.map((r) => ({ volume: set.all[r.volume].name, replica: r.replica })));
      if (++keys % SHOW_EVERY === 0) show("rebuild: merging", keys, keys);
    }
    await writer.finish();
    bar.clear();
    const seconds = (performance.now() - t0) / 1000;
    out(
      `rebuild: ${keys} keys from ${listed} replicas on ${set.all.length} volumes in ${seconds.toFixed(1)} s ` +
        `(${Math.round(keys / Math.max(seconds, 1e-3))} keys/s)${conflicts ? `, ${conflicts} disagreeing replica(s) set aside` : ""}; index at ${o.db}`,
    );
    return { keys, replicas: listed, conflicts, seconds };
  } finally {
    bar.clear();
    set.stop();
    await index.close();
  }
}

/** Writes one key's record from its replicas; returns how many disagreed with the majority. */
async function merge(writer: RebuildWriter, set: VolumeSet, key: string, replicas: { volume: string; replica: Replica }[]): Promise<number> {
  const groups = new Map<string, typeof replicas>();
  for (const r of replicas) {
    const id = `${r.replica.size} ${r.replica.md5}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  const best = [...groups.values()].sort((a, b) => b.length - a.length)[0]; // stable: ties keep the first volume's
  const order = set.placement(key);
  const volumes = best.map((r) => r.volume).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const { size, md5 } = best[0].replica;
  const record: NewRecord = { state: "live", volumes, size, md5, time: Math.max(...best.map((r) => r.replica.time)) };
  const others = replicas.filter((r) => !best.includes(r));
  for (const r of others) {
    console.error(
      `kvdb rebuild: ${key} on ${r.volume}: ${r.replica.size} bytes md5 ${r.replica.md5} disagrees with ${volumes.join(",")} ` +
        `(${size} bytes md5 ${md5}); kept the majority, the other copy will be deleted`,
    );
  }
  await writer.write(key, record);
  for (const r of others) await writer.owe({ volume: r.volume, key });
  return others.length;
}
