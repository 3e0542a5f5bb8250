/**
 * `npm run bench:scale [-- --keys N] [--json] [--doc]`: kvdb with N keys (default ten
 * million), measured. Loopback only, every process a real `kvdb` child, data in one
 * temp dir removed at the end whatever happens (error, Ctrl-C, the hard time limit).
 *   1. bench/scale-fill.ts writes N small inline values into 3 fresh volume catalogs
 *      (no HTTP PUT), 3 volumes start on them, the real `kvdb rebuild` makes the index;
 *   2. the index is compacted and weighed; a master starts on it;
 *   3. redirect GETs of random keys (cold: the master just started, then warm) and
 *      GETs of missing keys (`kvdb bench --existing-keys /scale/:N`), `?list` unpaged
 *      and paged with the master's RSS sampled, thrash cycles;
 *   4. verify --quick, verify, then rebalance after a 4th volume joins, each for at most
 *      --job-seconds (a job still running then ends with a restart of the master);
 *   5. thrash on a fresh empty cluster, for comparison.
 * Prints each figure as it comes; --json ends with one JSON line; --doc rewrites the
 * "Ten million keys" section of docs/PERFORMANCE.md (bench/scale-doc.ts).
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { ClassicLevel } from "classic-level";
import { stopAll } from "../harness/children.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { clientLabel, kvdbBench, stepOf } from "./kvdb-bench.ts";
import { describeMachine } from "./machine.ts";
import { procKiB } from "./rss.ts";
import { fillCatalogs, SCALE_PREFIX } from "./scale-fill.ts";
import { followJob, listPaged, listUnpaged } from "./scale-measure.ts";
import { writeScaleDoc, type ScaleResult } from "./scale-doc.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`bench:scale: --${name} needs a positive number`);
    process.exit(2);
  }
  return n;
}

const KEYS = Math.floor(option("keys", 10_000_000));
const SECONDS = option("seconds", 10); // each load workload
const JOB_SECONDS = option("job-seconds", 60); // each job's window
const LIST_SECONDS = option("list-seconds", 120); // each list's window
const MAX_MINUTES = option("max-minutes", 60); // the hard limit of the whole run
const VALUE_BYTES = 32;
const PAGE = 10_000;
const json = process.argv.includes("--json");
const doc = process.argv.includes("--doc");

const dir = tempDir("kvdb-scale");
const t0 = performance.now();
const since = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
const say = (line: string) => console.error(`[${since()}] ${line}`);

async function cleanup(code: number): Promise<never> {
  await stopAll(15_000);
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
const hardLimit = setTimeout(() => {
  say(`hard limit of ${MAX_MINUTES} minutes reached: stopping everything`);
  void cleanup(1);
}, MAX_MINUTES * 60_000);
process.once("SIGINT", () => void cleanup(130));
process.once("SIGTERM", () => void cleanup(143));

/** Node processes; a start on ten million keys may take minutes. */
const servers = { runtime: "node", inlineMax: 1024, replicas: 3, readyTimeoutMs: 30 * 60_000 } as const;
const startVolume = (d: string) => new VolumeServer(d, servers).start();
const startMaster = (volumes: VolumeServer[], db: string) => new MasterServer(db, () => volumes.map((v) => v.name), servers).start();
const du = (path: string) => Number(execFileSync("du", ["-sb", path], { encoding: "utf8" }).split("\t")[0]);
const mib = (pid: number) => procKiB(pid, "VmRSS") / 1024;

/** Every LevelDB table rewritten: the index's size at rest. (Only this bench opens the index itself, the master stopped.) */
async function compact(db: string): Promise<void> {
  const level = new ClassicLevel(db);
  await level.open();
  await level.compactRange("\u0000", "\uffff");
  await level.close();
}

async function thrash(master: MasterServer): Promise<number> {
  const out = await kvdbBench(master.url, ["--workload", "thrash", "--seconds", String(SECONDS)], (SECONDS + 60) * 1000);
  return stepOf(out, "thrash", "cycle")?.opsPerSec ?? 0;
}

async function main(): Promise<ScaleResult> {
  const machine = describeMachine(dir); // the commit measured: the one the run started on
  say(`${KEYS} keys, data in ${dir}; free: ${execFileSync("df", ["-h", "--output=avail", dir], { encoding: "utf8" }).split("\n")[1].trim()}`);
  const vdirs = [0, 1, 2].map((i) => join(dir, `v${i}`));
  let t = performance.now();
  await fillCatalogs(vdirs, KEYS, VALUE_BYTES, (n) => n % 1_000_000 === 0 && say(`fill: ${n} keys`));
  const fillSeconds = (performance.now() - t) / 1000;
  say(`fill: ${KEYS} keys × 3 catalogs in ${fillSeconds.toFixed(0)} s`);

  t = performance.now();
  const volumes = await Promise.all(vdirs.map(startVolume));
  say(`3 volumes up in ${((performance.now() - t) / 1000).toFixed(0)} s`);

  const db = join(dir, "index");
  const names = volumes.map((v) => v.name).join(",");
  t = performance.now();
  const rebuilt = await runKvdb(["rebuild", "--volumes", names, "--db", db], {}, MAX_MINUTES * 60_000);
  const rebuildSeconds = (performance.now() - t) / 1000;
  if (rebuilt.code !== 0) throw new Error(`kvdb rebuild exited ${rebuilt.code}: ${rebuilt.stderr.trim().slice(-500)}`);
  const rebuildKeysPerSec = KEYS / rebuildSeconds;
  say(`${rebuilt.stdout.trim()} — ${Math.round(rebuildKeysPerSec)} keys/s over the command's wall time`);

  const indexBefore = du(db);
  await compact(db);
  const indexBytes = du(db);
  say(`index: ${indexBytes} bytes after compaction (${(indexBytes / KEYS).toFixed(1)} B/key; ${(indexBefore / KEYS).toFixed(1)} B/key before)`);

  t = performance.now();
  let master = await startMaster(volumes, db);
  const masterStartSeconds = (performance.now() - t) / 1000;
  const rssStart = mib(master.pid);
  say(`master up in ${masterStartSeconds.toFixed(1)} s, RSS ${rssStart.toFixed(0)} MiB`);

  const existing = ["--existing-keys", `${SCALE_PREFIX}:${KEYS}`, "--size", String(VALUE_BYTES), "--seconds", String(SECONDS)];
  const load = async (workload: string, step: string) => {
    const out = await kvdbBench(master.url, ["--workload", workload, ...existing], (SECONDS + 60) * 1000);
    if (out.errors) throw new Error(`kvdb bench ${workload}: ${out.errors} failed operations`);
    return stepOf(out, workload, step)?.opsPerSec ?? 0;
  };
  const redirectCold = await load("redirect", "get 302");
  say(`redirect, cold: ${Math.round(redirectCold)}/s`);
  const redirectWarm = await load("redirect", "get 302");
  say(`redirect, warm: ${Math.round(redirectWarm)}/s`);
  const missing = await load("missing", "get 404");
  say(`missing: ${Math.round(missing)}/s`);

  const pid = master.pid;
  const unpaged = await listUnpaged(master.url, pid, LIST_SECONDS);
  say(`?list unpaged: ${unpaged.keys} keys in ${unpaged.seconds.toFixed(1)} s (${Math.round(unpaged.keysPerSec)}/s${unpaged.cut ? ", cut at the window" : ""}), RSS ${unpaged.rss.idleMiB.toFixed(0)} → peak ${unpaged.rss.peakMiB.toFixed(0)} MiB`);
  const paged = await listPaged(master.url, pid, LIST_SECONDS, PAGE);
  say(`?list paged by ${PAGE}: ${paged.keys} keys in ${paged.seconds.toFixed(1)} s (${Math.round(paged.keysPerSec)}/s${paged.cut ? ", cut at the window" : ""}), RSS ${paged.rss.idleMiB.toFixed(0)} → peak ${paged.rss.peakMiB.toFixed(0)} MiB`);

  const thrashFull = await thrash(master);
  say(`thrash on ${KEYS} keys: ${Math.round(thrashFull)} cycles/s`);
  const rssLoaded = mib(pid);
  const rssPeak = procKiB(pid, "VmHWM") / 1024;
  const rssAnon = procKiB(pid, "RssAnon") / 1024;
  const rssFile = procKiB(pid, "RssFile") / 1024;
  say(`master RSS after the loads: ${rssLoaded.toFixed(0)} MiB (private ${rssAnon.toFixed(0)} MiB, mapped files ${rssFile.toFixed(0)} MiB), peak ${rssPeak.toFixed(0)} MiB`);

  const verifyQuick = await followJob({ master: master.url, kind: "verify", quick: true }, JOB_SECONDS);
  say(`verify --quick: ${verifyQuick.done} of ${verifyQuick.total} keys in ${verifyQuick.seconds.toFixed(0)} s (${Math.round(verifyQuick.keysPerSec)} keys/s${verifyQuick.cut ? ", window ended" : ""}) ${verifyQuick.summary}`);
  if (verifyQuick.cut) {
    // One job at a time: a master that stops ends the one it runs.
    await master.stop("SIGTERM");
    master = await startMaster(volumes, db);
  }
  const verify = await followJob({ master: master.url, kind: "verify" }, JOB_SECONDS);
  say(`verify: ${verify.done} of ${verify.total} keys in ${verify.seconds.toFixed(0)} s (${Math.round(verify.keysPerSec)} keys/s${verify.cut ? ", window ended" : ""}) ${verify.summary}`);

  // Rebalance: a 4th volume, the master restarted with it (docs/OPERATIONS.md, rebalance).
  await master.stop("SIGTERM");
  volumes.push(await startVolume(join(dir, "v3")));
  master = await startMaster(volumes, db);
  const rebalance = await followJob({ master: master.url, kind: "rebalance" }, JOB_SECONDS);
  say(`rebalance 3 → 4 volumes: ${rebalance.done} of ${rebalance.total} keys in ${rebalance.seconds.toFixed(0)} s (${Math.round(rebalance.keysPerSec)} keys/s${rebalance.cut ? ", window ended" : ""}) ${rebalance.summary}`);
  await master.stop("SIGTERM");
  const diskBytes = du(dir);
  for (const v of volumes) await v.stop("SIGTERM");

  // The same thrash on an empty cluster.
  const empty = await Promise.all([0, 1, 2].map((i) => startVolume(join(dir, `empty${i}`))));
  const emptyMaster = await startMaster(empty, join(dir, "empty-index"));
  const thrashEmpty = await thrash(emptyMaster);
  say(`thrash on an empty cluster: ${Math.round(thrashEmpty)} cycles/s`);

  return {
    keys: KEYS,
    machine,
    client: clientLabel(),
    minutes: (performance.now() - t0) / 60_000,
    disk_bytes: diskBytes,
    fill_seconds: fillSeconds,
    index_bytes_per_key: indexBytes / KEYS,
    index_bytes_per_key_uncompacted: indexBefore / KEYS,
    master_start_seconds: masterStartSeconds,
    master_rss_mib: Math.max(rssStart, rssLoaded),
    master_rss_start_mib: rssStart,
    master_rss_peak_mib: rssPeak,
    master_rss_anon_mib: rssAnon,
    master_rss_file_mib: rssFile,
    redirect_per_s: redirectWarm,
    redirect_cold_per_s: redirectCold,
    missing_per_s: missing,
    list_keys_per_s: unpaged.keysPerSec,
    list_paged_keys_per_s: paged.keysPerSec,
    list: { unpaged, paged },
    rebuild_keys_per_s: rebuildKeysPerSec,
    rebuild_seconds: rebuildSeconds,
    verify_keys_per_s: verify.keysPerSec,
    verify,
    verify_quick_keys_per_s: verifyQuick.keysPerSec,
    verify_quick: verifyQuick,
    rebalance_keys_per_s: rebalance.keysPerSec,
    rebalance,
    thrash_per_s: thrashFull,
    thrash_empty_per_s: thrashEmpty,
    seconds_per_workload: SECONDS,
  };
}

let code = 0;
try {
  const r = await main();
  if (doc) writeScaleDoc(r);
  if (json) console.log(JSON.stringify(r));
} catch (e) {
  say(`bench:scale failed: ${(e as Error).stack ?? e}`);
  code = 1;
} finally {
  clearTimeout(hardLimit);
}
await cleanup(code);
