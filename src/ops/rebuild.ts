/**
 * `kvdb rebuild`: reconstructs a lost master index from what the volumes hold, offline
 * (the master stopped: only one process can open its LevelDB).
 *   1. every volume streams its own catalog (/_kvdb/list: key, size, md5, time); each
 *      line goes, in batches, into a scratch sublevel under "key \0 volume#", so that
 *      the replicas of a key sort next to each other — nothing is held in memory;
 *   2. one pass over the scratch sublevel merges each key's replicas: those that agree
 *      (size and md5) with the majority (ties: the first volume listed) make the live
 *      record, in placement order; a disagreeing replica is reported and recorded as
 *      an orphan, which the master's janitor deletes once it runs.
 * The index's keys, pending operations and orphans are replaced.
 */
import { Records, type KeyRecord } from "../master/records.ts";
import { VolumeSet } from "../master/volumes.ts";
import { runtime } from "../runtime/mod.ts";
import { barLine, Bar } from "./progress.ts";
import { ndjsonLines } from "../http/ndjson.ts";

export interface RebuildOptions {
  volumes: string[];
  db: string;
  secret?: string;
  /** Timeout for each volume to start answering, ms. */
  timeoutMs?: number;
}

interface Listed {
  size: number;
  md5: string;
  time: number;
}

const BATCH = 1000;
const SEP = "\0"; // never in a key (keys.ts refuses NUL)

export interface RebuildResult {
  keys: number;
  replicas: number;
  conflicts: number;
  seconds: number;
}

export async function rebuild(o: RebuildOptions, out: (line: string) => void = console.log): Promise<RebuildResult> {
  const t0 = performance.now();
  const set = new VolumeSet(o.volumes, o.secret);
  await set.check();
  const down = set.all.filter((v) => !v.up);
  if (down.length) throw new Error(`volumes not answering: ${down.map((v) => `${v.name} (${v.error})`).join(", ")}; every volume must be up to rebuild`);
  const records = new Records(o.db);
  try {
    await records.open();
  } catch (e) {
    const cause = (e as { cause?: Error }).cause?.message ?? "";
    throw new Error(`cannot open the index at ${o.db} (is the master still running? stop it first): ${(e as Error).message} ${cause}`.trim());
  }
  const scratch = records.db.sublevel<string, Listed>("rebuild", { valueEncoding: "json" });
  const bar = new Bar();
  try {
    await Promise.all([records.keys.clear(), records.pending.clear(), records.orphans.clear(), scratch.clear()]);
    const total = set.all.reduce((n, v) => n + v.count, 0);
    let listed = 0;
    const started = performance.now();
    const show = (label: string, done: number, of: number) => {
      const s = (performance.now() - started) / 1000;
      bar.update(barLine(label, done, of, s > 0 ? done / s : 0));
    };

    // 1. Every volume's catalog into the scratch sublevel.
    for (const [i, v] of set.all.entries()) {
      const res = await runtime.call(set.url(v.name, "/_kvdb/list"), { timeoutMs: o.timeoutMs ?? 30_000 });
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        throw new Error(`${v.name}: /_kvdb/list answered ${res.status}`);
      }
      let batch = records.db.batch();
      for await (const line of ndjsonLines(res.body)) {
        const e = JSON.parse(line) as Listed & { key: string };
        batch.put(`${e.key}${SEP}${String(i).padStart(4, "0")}`, { size: e.size, md5: e.md5, time: e.time }, { sublevel: scratch });
        if (batch.length >= BATCH) {
          await batch.write();
          batch = records.db.batch();
        }
        if (++listed % 500 === 0) show("rebuild: listing", listed, total);
      }
      await batch.write();
    }

    // 2. Merge each key's replicas into its record.
    let keys = 0;
    let conflicts = 0;
    let batch = records.db.batch();
    const flush = async (force = false) => {
      if (batch.length >= BATCH || (force && batch.length)) {
        await batch.write({ sync: force });
        batch = records.db.batch();
      }
    };
    const merge = async (key: string, replicas: { volume: string; e: Listed }[]) => {
      const groups = new Map<string, typeof replicas>();
      for (const r of replicas) {
        const id = `${r.e.size} ${r.e.md5}`;
        groups.set(id, [...(groups.get(id) ?? []), r]);
      }
      const best = [...groups.values()].sort((a, b) => b.length - a.length)[0]; // stable: ties keep the first volume's
      const order = set.placement(key);
      const volumes = best.map((r) => r.volume).sort((a, b) => order.indexOf(a) - order.indexOf(b));
      const record: KeyRecord = { state: "live", volumes, size: best[0].e.size, md5: best[0].e.md5, time: Math.max(...best.map((r) => r.e.time)) };
      batch.put(key, record, { sublevel: records.keys });
      for (const r of replicas) {
        if (best.includes(r)) continue;
        conflicts++;
        console.error(`kvdb rebuild: ${key} on ${r.volume}: ${r.e.size} bytes md5 ${r.e.md5} disagrees with ${volumes.join(",")} (${record.size} bytes md5 ${record.md5}); kept the majority, the other copy will be deleted`);
        batch.put(`${r.volume} ${key}`, String(Date.now()), { sublevel: records.orphans });
      }
      keys++;
      if (keys % 500 === 0) show("rebuild: merging", keys, keys);
      await flush();
    };
    let current: string | undefined;
    let group: { volume: string; e: Listed }[] = [];
    for await (const [id, e] of scratch.iterator()) {
      const sep = id.lastIndexOf(SEP);
      const key = id.slice(0, sep);
      const volume = set.all[Number(id.slice(sep + 1))].name;
      if (key !== current) {
        if (current !== undefined) await merge(current, group);
        current = key;
        group = [];
      }
      group.push({ volume, e });
    }
    if (current !== undefined) await merge(current, group);
    await flush(true);
    await scratch.clear();
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
    await records.close();
  }
}
