/**
 * `npm run bench`: measures the machine's limits (disk, loopback, the load generator's
 * ceiling, the bare Hono ceiling), then runs the same workloads with the same load
 * generator (`kvdb bench`) against fresh clusters (master + 3 volume processes, 3
 * replicas, new temp dirs) of kvdb under Node, Deno and the Bun binary, and of
 * minikeyvalue (../shared/peers/minikeyvalue, built and started here; skipped with a
 * line saying why where it cannot be built), then bench/put-rss and a CPU profile of
 * the thrash workload, and writes docs/PERFORMANCE.md. Bounded (~10 minutes with the
 * default 10 s per small workload; killed at 15), and it removes its processes, temp
 * dirs and 1 GiB files whatever happens.
 *
 *   npm run bench [-- --seconds 10 --runtimes node,deno,bun --peers minikeyvalue|none
 *                     --workloads thrash,redirect,… --client bun|node --out docs/PERFORMANCE.md --skip-profile --skip-rss --skip-limits]
 */
import { chmodSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { ensureBinary } from "../harness/binary.ts";
import { runChild, stopAll } from "../harness/children.ts";
import { REPO, tempDir } from "../harness/paths.ts";
import { measureCpu } from "./cpu.ts";
import { clientLabel, stepOf, useClient, type ClientName } from "./kvdb-bench.ts";
import { clientCeiling, diskFsyncMBps, honoCeiling, loopbackSendMBps, writeRandomFile } from "./limits.ts";
import { describeMachine } from "./machine.ts";
import { buildMinikeyvalue, startMinikeyvalue } from "./minikeyvalue.ts";
import { bootstrapKey } from "../src/ops/keys.ts";
import { AUTHED, runWorkloads, SIGNED, WORKLOADS, type BigFile, type TargetResult, type WorkloadRun } from "./plan.ts";
import { profileThrash } from "./profile.ts";
import { writeReport, type Limits, type Report } from "./report.ts";
import { startCluster } from "../harness/cluster.ts";
import { benchClusterOptions, targetOf, type RuntimeName } from "./runtimes.ts";
import { syncProbe } from "./sync-probe.ts";

const HARD_LIMIT_MS = 15 * 60_000;

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const seconds = Number(option("seconds", "10"));
const runtimes = option("runtimes", "node,deno,bun").split(",").filter(Boolean) as RuntimeName[];
const peers = option("peers", "minikeyvalue");
const workloads = option("workloads", WORKLOADS.join(",")).split(",") as WorkloadRun[];
const out = resolve(REPO, option("out", "docs/PERFORMANCE.md"));
const skipProfile = process.argv.includes("--skip-profile");
const skipRss = process.argv.includes("--skip-rss");
const skipLimits = process.argv.includes("--skip-limits");
const client = option("client", "bun") as ClientName;
if (
  !(seconds > 0 && seconds <= 60) ||
  runtimes.some((r) => !["node", "deno", "bun"].includes(r)) ||
  !["minikeyvalue", "none"].includes(peers) ||
  workloads.some((w) => !WORKLOADS.includes(w)) ||
  !["node", "bun"].includes(client)
) {
  console.error(`bench: --seconds must be in (0, 60], --runtimes a list of node,deno,bun, --peers minikeyvalue or none, --workloads a list of ${WORKLOADS.join(",")}, --client node or bun`);
  process.exit(2);
}

const t0 = performance.now();
const root = tempDir("kvdb-bench");
// minikeyvalue's nginx workers are not root: they must be able to reach its data dir under here.
chmodSync(root, 0o755);
const log = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);
let peerCluster: Awaited<ReturnType<typeof startMinikeyvalue>> | undefined;

async function cleanup(): Promise<void> {
  await peerCluster?.stop();
  await stopAll();
  rmSync(root, { recursive: true, force: true });
}
const abort = (why: string, code: number) => {
  console.error(`bench: ${why}; cleaning up`);
  // Twice: the run goes on while the first pass waits for its children to stop, and may
  // start a cluster (and its dirs) meanwhile; the second pass stops and removes those.
  void cleanup()
    .then(cleanup)
    .finally(() => process.exit(code));
};
process.once("SIGINT", () => abort("interrupted", 130));
process.once("SIGTERM", () => abort("terminated", 143));
setTimeout(() => abort(`still running after ${HARD_LIMIT_MS / 60_000} minutes`, 1), HARD_LIMIT_MS).unref();

/**
 * kvdb under `runtime`: a fresh cluster for the plain workloads, another with --secret
 * for the signed ones, a third with a client key (every request carrying its token).
 */
async function benchRuntime(runtime: RuntimeName, big: BigFile): Promise<TargetResult> {
  const result: TargetResult = { target: runtime, runs: {}, failures: [] };
  const plain = workloads.filter((w) => !SIGNED.includes(w) && !AUTHED.includes(w));
  const clusters = [
    { list: plain, name: "", secret: undefined, auth: false },
    { list: workloads.filter((w) => SIGNED.includes(w)), name: "-secret", secret: "kvdb-bench-shared-secret", auth: false },
    { list: workloads.filter((w) => AUTHED.includes(w)), name: "-auth", secret: undefined, auth: true },
  ];
  for (const { list, name, secret, auth } of clusters) {
    if (!list.length) continue;
    const dir = join(root, `${runtime}${name}`);
    try {
      // An admin key made in the index (harness/cluster.ts keeps it in dir/master) turns authentication on.
      const token = auth ? /^token=(\S+)$/m.exec(await bootstrapKey(join(dir, "master"), "bench", [{ level: "admin" }]))![1] : undefined;
      const cluster = await startCluster(benchClusterOptions(runtime, dir, { secret }));
      try {
        await runWorkloads(targetOf(cluster), list, seconds, big, result, log, token);
      } finally {
        await cluster.close("SIGINT");
      }
    } catch (e) {
      // The cluster did not start: its workloads have no figures, the others keep theirs.
      const why = (e as Error).message.split("\n").filter(Boolean).slice(-1)[0];
      result.failures.push(`${list.join(", ")}: the cluster${name} did not start: ${why}`);
      log(`  ${runtime}${name} cluster failed: ${why}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return result;
}

/** minikeyvalue, built and started fresh; its error says why not where it cannot be. */
async function benchPeer(big: BigFile): Promise<TargetResult> {
  const result: TargetResult = { target: "minikeyvalue", runs: {}, failures: [] };
  const buildLog = join(root, "minikeyvalue-build.log");
  log("minikeyvalue: building (../shared/peers/minikeyvalue/build.sh)");
  const why = buildMinikeyvalue(buildLog);
  if (why) {
    log(`  minikeyvalue skipped: it cannot be built here: ${why}`);
    return { ...result, error: `not built: ${why}` };
  }
  const dir = join(root, "minikeyvalue");
  try {
    peerCluster = await startMinikeyvalue(dir, join(root, "minikeyvalue-start.log"));
    await runWorkloads(peerCluster, workloads.filter((w) => !SIGNED.includes(w) && !AUTHED.includes(w)), seconds, big, result, log);
  } catch (e) {
    log(`  minikeyvalue failed: ${(e as Error).message}`);
    result.error = (e as Error).message.split("\n")[0];
  } finally {
    await peerCluster?.stop();
    peerCluster = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

try {
  const machine = describeMachine(root);
  log(`${machine.cores} cores, ${machine.memoryGiB} GiB; Node ${machine.node}, ${machine.deno}, Bun ${machine.bun}`);
  if (runtimes.includes("bun") || client === "bun") await ensureBinary(log);
  useClient(client);
  log(`load generator: ${clientLabel()}`);
  const idle = measureCpu({});
  await new Promise((r) => setTimeout(r, 2000));
  const before = idle.stop().machine;
  log(`machine busy before starting: ${before.toFixed(2)} cores${before > 0.25 ? " — someone else is using it: figures will be lower" : ""}`);

  let limits: Limits = { disk: [], send: { bunFile: [], sendfile: null }, sync: [], ceiling: { redirect: NaN, missing: NaN }, hono: { redirect: NaN, missing: NaN } };
  if (!skipLimits) {
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
    limits = { ...limits, disk, send, sync };
  }
  // The two request-rate ceilings are cheap (5 s each) and what the redirect figures are read against.
  log("limits: load generator ceiling (do-nothing server)");
  limits.ceiling = await clientCeiling(Math.min(seconds, 5));
  log(`  redirect ${limits.ceiling.redirect.toFixed(0)}/s, missing ${limits.ceiling.missing.toFixed(0)}/s`);
  log("limits: bare Hono ceiling (bench/hono-server.ts: the master's 302 and 404 on @hono/node-server, no work)");
  limits.hono = await honoCeiling(Math.min(seconds, 5));
  log(`  redirect ${limits.hono.redirect.toFixed(0)}/s, missing ${limits.hono.missing.toFixed(0)}/s`);

  const big: BigFile = { path: join(root, "get-1GiB"), size: 2 ** 30 };
  if (workloads.includes("get1g")) writeRandomFile(big.path, 1024);

  const results: TargetResult[] = [];
  for (const runtime of runtimes) {
    log(`${runtime}: fresh clusters of master + 3 volumes`);
    try {
      results.push(await benchRuntime(runtime, big));
    } catch (e) {
      log(`  ${runtime} failed: ${(e as Error).message}`);
      results.push({ target: runtime, error: (e as Error).message, runs: {}, failures: [] });
    }
  }
  if (peers === "minikeyvalue") results.push(await benchPeer(big));
  else log("minikeyvalue: not measured (--peers none)");
  rmSync(big.path, { force: true });

  let putRss = "";
  const freshRss: Record<string, number> = {};
  for (const runtime of skipRss ? [] : runtimes) {
    log(`bench/put-rss: 1 GiB PUT, fresh master's RSS (${runtime})`);
    const rss = await runChild([process.execPath, join(REPO, "dist", "node", "bench", "put-rss.js"), "--size", "1GiB", "--runtime", runtime], { timeoutMs: 300_000 });
    putRss += (rss.code === 0 ? rss.stdout : `put-rss --runtime ${runtime} exited ${rss.code}:\n${rss.stdout}${rss.stderr}`).trim() + "\n\n";
    const peak = /^master peak RSS\s+([\d.]+) MiB/m.exec(rss.stdout);
    if (rss.code === 0 && peak) freshRss[runtime] = Number(peak[1]);
  }

  let profile: Report["profile"];
  if (!skipProfile) {
    log("profile: thrash against a Node master and volume under --cpu-prof");
    const dir = join(root, "profile");
    const p = await profileThrash(dir, join(dir, "cluster"), seconds).catch((e: Error) => {
      log(`  profile failed: ${e.message}`);
      return undefined;
    });
    if (p) profile = { cycles: stepOf(p.bench, "thrash", "cycle"), master: p.master, volume: p.volume, cpu: p.cpu };
    rmSync(dir, { recursive: true, force: true });
  }

  const minutes = (performance.now() - t0) / 60_000;
  writeReport(out, { machine, limits, client: clientLabel(), targets: results, putRss, freshRss, profile, seconds, minutes });
  log(`wrote ${out}`);
  const failed = results.filter((r) => r.error).length + results.reduce((n, r) => n + r.failures.length, 0) + results.reduce((n, r) => n + Object.values(r.runs).reduce((m, x) => m + (x?.bench?.errors ?? 0), 0), 0);
  process.exitCode = failed ? 1 : 0;
} catch (e) {
  console.error(`bench: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
