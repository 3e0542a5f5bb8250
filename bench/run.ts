/**
 * `npm run bench`: measures the machine's limits, then runs `kvdb bench` against a
 * cluster (master + 3 volume processes, 3 replicas, temp dir) under Node, Deno and
 * the Bun binary, runs bench/put-rss and a CPU profile of the thrash workload, and
 * writes docs/PERFORMANCE.md. Bounded (4–6 minutes; killed at 12), and it removes
 * its processes, temp dirs and 1 GiB files whatever happens.
 *
 *   npm run bench [-- --seconds 10 --runtimes node,deno,bun --client bun|node --out docs/PERFORMANCE.md --skip-profile]
 */
import { rmSync, statSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { runChild, stopAll } from "../harness/children.ts";
import { PATHS, REPO, tempDir } from "../harness/paths.ts";
import { measureCpu } from "./cpu.ts";
import { clientLabel, kvdbBench, stepOf, useClient, type ClientName } from "./kvdb-bench.ts";
import { clientCeiling, diskFsyncMBps, loopbackSendMBps } from "./limits.ts";
import { describeMachine } from "./machine.ts";
import { profileThrash } from "./profile.ts";
import { writeReport, type Limits, type Report, type RuntimeResult, type WorkloadRun } from "./report.ts";
import { sampleRss } from "./rss.ts";
import { makeBlobDirs, resetVolumes, startBenchCluster, type RuntimeName } from "./runtimes.ts";
import { syncProbe } from "./sync-probe.ts";

const HARD_LIMIT_MS = 12 * 60_000;

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const seconds = Number(option("seconds", "10"));
const runtimes = option("runtimes", "node,deno,bun").split(",") as RuntimeName[];
const out = resolve(REPO, option("out", "docs/PERFORMANCE.md"));
const skipProfile = process.argv.includes("--skip-profile");
const client = option("client", "bun") as ClientName;
if (!(seconds > 0 && seconds <= 60) || runtimes.some((r) => !["node", "deno", "bun"].includes(r)) || !["node", "bun"].includes(client)) {
  console.error("bench: --seconds must be in (0, 60], --runtimes a list of node,deno,bun, --client node or bun");
  process.exit(2);
}

const t0 = performance.now();
const root = tempDir("kvdb-bench");
/** One cluster dir for every runtime and the profile: its volumes' blob dirs are made once. */
const clusterDir = join(root, "cluster");
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);

async function cleanup(): Promise<void> {
  await stopAll();
  rmSync(root, { recursive: true, force: true });
}
const abort = (why: string, code: number) => {
  console.error(`bench: ${why}; cleaning up`);
  void cleanup().finally(() => process.exit(code));
};
process.once("SIGINT", () => abort("interrupted", 130));
process.once("SIGTERM", () => abort("terminated", 143));
setTimeout(() => abort(`still running after ${HARD_LIMIT_MS / 60_000} minutes`, 1), HARD_LIMIT_MS).unref();

/** The newest mtime under `dir` (.ts files). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(".ts")) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/** dist/kvdb, built (npm run compile) if missing or older than the source. */
async function ensureBinary(): Promise<void> {
  let built = 0;
  try {
    built = statSync(PATHS.kvdbBinary).mtimeMs;
  } catch {
    // missing
  }
  const source = Math.max(newest(join(REPO, "src")), statSync(PATHS.modTs).mtimeMs);
  if (built >= source) return;
  log(built ? "dist/kvdb is older than the source: npm run compile" : "dist/kvdb missing: npm run compile");
  const r = await runChild([PATHS.bun, join(REPO, "src", "compile.ts")], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`npm run compile failed:\n${r.stderr || r.stdout}`);
}

async function benchRuntime(runtime: RuntimeName): Promise<RuntimeResult> {
  const result: RuntimeResult = { runtime, runs: {}, failures: [] };
  const cluster = await startBenchCluster(runtime, clusterDir);
  const groups = { master: [cluster.masterPid], volumes: cluster.volumePids };
  const small = (w: string) => ["--workload", w, "--seconds", String(seconds)];
  // [run, args, kill after (s)]: a large transfer slower than ~10 MB/s is cut, keeping the whole run bounded.
  const plan: [WorkloadRun, string[], number][] = [
    ["thrash", small("thrash"), seconds + 60],
    ["redirect", small("redirect"), seconds + 60],
    ["missing", small("missing"), seconds + 60],
    ["large256", ["--workload", "large", "--large-size", "256MiB", "--count", "3", "--seconds", "15"], 75],
    ["large1g", ["--workload", "large", "--large-size", "1GiB", "--count", "1", "--seconds", "1"], 100],
  ];
  try {
    for (const [name, args, limit] of plan) {
      const cpu = measureCpu(groups);
      const rss = name === "large1g" ? sampleRss(cluster.masterPid) : undefined;
      let bench;
      try {
        bench = await kvdbBench(cluster.url, args, limit * 1000);
      } catch (e) {
        rss?.stop();
        const why = (e as Error).message.split("\n").find((l) => l.trim() && !l.startsWith("kvdb bench ")) ?? (e as Error).message;
        result.failures.push(`${name}: ${why.trim()}`);
        log(`  ${runtime} ${name} failed: ${why.trim()}`);
        continue;
      }
      result.runs[name] = { bench, cpu: cpu.stop(), rss: rss?.stop() };
      const headline = bench.results[0]?.steps[0];
      const put = stepOf(bench, "large", "put");
      const read = stepOf(bench, "large", "read");
      log(
        `  ${runtime} ${name}: ` +
          (put && read
            ? `PUT ${put.mbPerSec?.toFixed(0)} MB/s, GET ${read.mbPerSec?.toFixed(0)} MB/s`
            : `${headline?.opsPerSec.toFixed(0)} ${headline?.step}/s`) +
          (result.runs[name]!.rss ? `, master peak RSS ${result.runs[name]!.rss!.peakMiB.toFixed(0)} MiB` : "") +
          `, ${bench.errors} errors`,
      );
    }
  } finally {
    await cluster.stop();
    resetVolumes(clusterDir);
  }
  return result;
}

try {
  const machine = describeMachine(root);
  log(`${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, ${machine.deno}, Bun ${machine.bun}`);
  if (runtimes.includes("bun") || client === "bun") await ensureBinary();
  useClient(client);
  log(`load generator: ${clientLabel()}`);
  const idle = measureCpu({});
  await new Promise((r) => setTimeout(r, 2000));
  const before = idle.stop().machine;
  log(`machine busy before starting: ${before.toFixed(2)} cores${before > 0.25 ? " — someone else is using it: figures will be lower" : ""}`);

  const disk = [];
  for (const [mib, runs] of [[768, 3], [1024, 3], [3072, 2]]) {
    log(`limits: dd ${mib} MiB conv=fsync ×${runs}`);
    disk.push(await diskFsyncMBps(root, mib, runs));
    log(`  ${disk.at(-1)!.runs.map((v) => v.toFixed(0)).join(", ")} MB/s`);
  }
  log("limits: loopback 1 GiB file send (Bun.file, sendfile) → curl, ×3 each");
  const send = await loopbackSendMBps(root);
  log(`  Bun.file ${send.bunFile.map((v) => v.toFixed(0)).join(", ")} MB/s; sendfile ${send.sendfile?.map((v) => v.toFixed(0)).join(", ") ?? "-"} MB/s`);
  log("limits: durable small writes (file fsync, LevelDB sync)");
  const sync = await syncProbe(join(root, "sync"));
  log("limits: load generator ceiling (do-nothing server)");
  const ceiling = await clientCeiling(Math.min(seconds, 5));
  log(`  redirect ${ceiling.redirect.toFixed(0)}/s, missing ${ceiling.missing.toFixed(0)}/s`);
  const limits: Limits = { disk, send, sync, ceiling };

  log("volumes: making the 3 × 65,536 blob directories a volume in service has");
  makeBlobDirs(clusterDir);

  const results: RuntimeResult[] = [];
  for (const runtime of runtimes) {
    log(`${runtime}: cluster of master + 3 volumes`);
    try {
      results.push(await benchRuntime(runtime));
    } catch (e) {
      log(`  ${runtime} failed: ${(e as Error).message}`);
      results.push({ runtime, error: (e as Error).message, runs: {}, failures: [] });
    }
  }

  let putRss = "";
  for (const runtime of runtimes) {
    log(`bench/put-rss: 1 GiB PUT, fresh master's RSS (${runtime})`);
    const rss = await runChild([process.execPath, join(REPO, "dist", "node", "bench", "put-rss.js"), "--size", "1GiB", "--runtime", runtime], { timeoutMs: 300_000 });
    putRss += (rss.code === 0 ? rss.stdout : `put-rss --runtime ${runtime} exited ${rss.code}:\n${rss.stdout}${rss.stderr}`).trim() + "\n\n";
  }

  let profile: Report["profile"];
  if (!skipProfile) {
    log("profile: thrash against a Node master and volume under --cpu-prof");
    const dir = join(root, "profile");
    const p = await profileThrash(dir, clusterDir, seconds).catch((e: Error) => {
      log(`  profile failed: ${e.message}`);
      return undefined;
    });
    if (p) profile = { cycles: stepOf(p.bench, "thrash", "cycle"), master: p.master, volume: p.volume, cpu: p.cpu };
    rmSync(dir, { recursive: true, force: true });
  }

  const minutes = (performance.now() - t0) / 60_000;
  writeReport(out, { machine, limits, client: clientLabel(), runtimes: results, putRss, profile, seconds, minutes });
  log(`wrote ${out}`);
  const failed = results.filter((r) => r.error).length + results.reduce((n, r) => n + r.failures.length, 0) + results.reduce((n, r) => n + Object.values(r.runs).reduce((m, x) => m + (x?.bench.errors ?? 0), 0), 0);
  process.exitCode = failed ? 1 : 0;
} catch (e) {
  console.error(`bench: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
