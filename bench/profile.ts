/**
 * A CPU profile of the thrash workload: a Node cluster whose master and first volume
 * run under `node --cpu-prof`, loaded by `kvdb bench --workload thrash`, stopped
 * cleanly so both write their .cpuprofile, then summarised (profile-summary.ts).
 * Part of `npm run bench`; alone:
 *   npm run bench:profile [-- --seconds 10 --size 1MiB --direct-threshold 64KiB --out DIR]
 * (--size: the thrash value size, default 1 KiB; --direct-threshold: the master's;
 * --out keeps the .cpuprofile files)
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { stopAll } from "../harness/children.ts";
import { PATHS, tempDir } from "../harness/paths.ts";
import { measureCpu, type CpuShare } from "./cpu.ts";
import { kvdbBench, type BenchOutput } from "./kvdb-bench.ts";
import { summarise, summaryMarkdown, type CpuProfile, type Summary } from "./profile-summary.ts";
import { startCluster } from "../harness/cluster.ts";
import { benchClusterOptions, nodeCommand } from "./runtimes.ts";
import { parseSize } from "../src/cli/size.ts";

export interface ThrashProfile {
  bench: BenchOutput;
  cpu: CpuShare;
  master: Summary;
  volume: Summary;
}

function readProfile(dir: string): CpuProfile {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no .cpuprofile was written under ${dir}`);
  return JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
}

/** `data`: a new dir for the cluster (fresh volumes, as users start with); removed after. */
export async function profileThrash(dir: string, data: string, seconds: number, keep?: string, more: { size?: string; directThreshold?: string } = {}): Promise<ThrashProfile> {
  const profiles = { master: join(dir, "profile-master"), volume: join(dir, "profile-volume") };
  mkdirSync(profiles.master, { recursive: true });
  mkdirSync(profiles.volume, { recursive: true });
  const prof = (out: string) => [...nodeCommand(), "--cpu-prof", "--cpu-prof-dir", out, PATHS.kvdbNode];
  const directThreshold = more.directThreshold === "off" ? null : more.directThreshold === undefined ? undefined : parseSize(more.directThreshold);
  if (directThreshold !== undefined && directThreshold !== null && !(directThreshold >= 0)) throw new Error(`--direct-threshold ${more.directThreshold} is not a size`);
  const cluster = await startCluster(benchClusterOptions("node", data, { directThreshold, commands: { master: prof(profiles.master), firstVolume: prof(profiles.volume) } }));
  let bench: BenchOutput;
  let cpu: CpuShare;
  try {
    const measuring = measureCpu({ master: [cluster.master.pid], volumes: cluster.volumes.map((v) => v.pid) });
    bench = await kvdbBench(cluster.url, ["--workload", "thrash", "--seconds", String(seconds), ...(more.size ? ["--size", more.size] : [])], (seconds + 60) * 1000);
    cpu = measuring.stop();
  } finally {
    await cluster.close("SIGINT");
    rmSync(data, { recursive: true, force: true });
  }
  if (keep) cpSync(dir, keep, { recursive: true, filter: (src) => !src.startsWith(data) });
  return { bench, cpu, master: summarise(readProfile(profiles.master)), volume: summarise(readProfile(profiles.volume)) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const dir = tempDir("kvdb-profile");
  const stop = () => void stopAll().finally(() => (rmSync(dir, { recursive: true, force: true }), process.exit(130)));
  process.once("SIGINT", stop);
  try {
    const data = join(dir, "data");
    const p = await profileThrash(dir, data, Number(arg("seconds") ?? 10), arg("out"), { size: arg("size"), directThreshold: arg("direct-threshold") });
    const cycles = p.bench.results[0]?.steps.find((s) => s.step === "cycle");
    console.log(`thrash: ${cycles?.ops} cycles, ${cycles?.opsPerSec.toFixed(0)}/s, ${p.bench.errors} errors\n`);
    console.log(`## master\n\n${summaryMarkdown(p.master)}\n## volume\n\n${summaryMarkdown(p.volume)}`);
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
