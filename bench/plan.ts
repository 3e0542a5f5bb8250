/**
 * The workloads of `npm run bench`, run the same way against every cluster (kvdb under
 * each runtime, and minikeyvalue) with the same load generator, and measured: figures,
 * CPU by process, the master's RSS during the 1 GiB PUT.
 */
import { measureCpu, type CpuShare } from "./cpu.ts";
import { bigGets, bigPut, type BigGets } from "./big-gets.ts";
import { kvdbBench, stepOf, type BenchOutput } from "./kvdb-bench.ts";
import { sampleRss } from "./rss.ts";
import type { Target } from "./runtimes.ts";

export const WORKLOADS = ["thrash", "thrash1m", "redirect", "missing", "redirect-secret", "missing-secret", "redirect-auth", "large256", "large1g", "get1g"] as const;
export type WorkloadRun = (typeof WORKLOADS)[number];
/** What a run measured: the workloads, and get1g's curl PUT of its value apart (put1g). */
export type Measurement = WorkloadRun | "put1g";

/** The workloads run against a cluster started with --secret (kvdb only: minikeyvalue has none). */
export const SIGNED: readonly WorkloadRun[] = ["redirect-secret", "missing-secret"];
/** The workloads run against a cluster with a client key, every request carrying its token (kvdb only). */
export const AUTHED: readonly WorkloadRun[] = ["redirect-auth"];

export interface Measured {
  /** `kvdb bench`'s output; get1g is measured with curl instead (`gets`, and `put` for put1g). */
  bench?: BenchOutput;
  gets?: BigGets;
  put?: { mbPerSec: number; bytes: number };
  cpu: CpuShare;
  rss?: { idleMiB: number; peakMiB: number };
  /** Wall seconds of the measurement and the load generator's CPU seconds in it. */
  wallSeconds: number;
  clientCpuSeconds: number;
}

export interface TargetResult {
  /** "node", "deno", "bun" or "minikeyvalue". */
  target: string;
  /** The cluster could not run at all (or, for minikeyvalue, could not be built). */
  error?: string;
  runs: Partial<Record<Measurement, Measured>>;
  /** Workloads that gave no results (killed at their time limit, crashed). */
  failures: string[];
}

/** A 1 GiB file for get1g, made once per run. */
export interface BigFile {
  path: string;
  size: number;
}

/** [kvdb bench arguments, kill after (s)]; a large transfer slower than ~10 MB/s is cut, keeping the run bounded. */
function benchArgs(w: WorkloadRun, seconds: number): [string[], number] {
  const small = (workload: string, ...more: string[]): [string[], number] => [["--workload", workload, "--seconds", String(seconds), ...more], seconds + 60];
  switch (w) {
    case "thrash":
      return small("thrash");
    case "thrash1m":
      return small("thrash", "--size", "1MiB");
    case "redirect":
    case "redirect-secret":
    case "redirect-auth":
      return small("redirect");
    case "missing":
    case "missing-secret":
      return small("missing");
    case "large256":
      return [["--workload", "large", "--large-size", "256MiB", "--count", "2", "--seconds", "15"], 75];
    default:
      return [["--workload", "large", "--large-size", "1GiB", "--count", "1", "--seconds", "1"], 100];
  }
}

/** One line for the log: the headline figure of a measurement. */
export function headline(w: WorkloadRun, m: Measured): string {
  if (m.gets) return `GET 1 GiB ${m.gets.single.map((v) => v.toFixed(0)).join(", ")} MB/s one at a time, ${m.gets.four.toFixed(0)} MB/s 4 at once`;
  const put = stepOf(m.bench, "large", "put");
  const read = stepOf(m.bench, "large", "read");
  const first = m.bench?.results[0]?.steps[0];
  const main = put && read ? `PUT ${put.mbPerSec?.toFixed(0)} MB/s, GET ${read.mbPerSec?.toFixed(0)} MB/s` : `${first?.opsPerSec.toFixed(0)} ${first?.step}/s`;
  return `${main}${m.rss ? `, master peak RSS ${m.rss.peakMiB.toFixed(0)} MiB` : ""}, ${m.bench?.errors ?? 0} errors`;
}

/** Runs `workloads` against `cluster` in order, into `result`; a workload that fails is noted and the next one runs. */
/** `token`: a client key's, sent by the load generator with every request to the master. */
export async function runWorkloads(cluster: Target, workloads: WorkloadRun[], seconds: number, big: BigFile, result: TargetResult, log: (s: string) => void, token?: string): Promise<void> {
  const groups = { master: [cluster.masterPid], volumes: cluster.volumePids };
  for (const w of workloads) {
    const cpu = measureCpu(groups);
    const rss = w === "large1g" ? sampleRss(cluster.masterPid) : undefined;
    const t0 = performance.now();
    try {
      let m: Measured;
      if (w === "get1g") {
        // The PUT is measured on its own: its server CPU per MB is a figure of its own.
        const { url, mbPerSec } = await bigPut(cluster.url, big.path, big.size);
        result.runs.put1g = { put: { mbPerSec, bytes: big.size }, cpu: cpu.stop(), wallSeconds: (performance.now() - t0) / 1000, clientCpuSeconds: 0 };
        log(`  ${result.target} put1g: PUT 1 GiB with curl ${mbPerSec.toFixed(0)} MB/s`);
        const getCpu = measureCpu(groups);
        const g0 = performance.now();
        const gets = await bigGets(url, big.size);
        m = { gets, cpu: getCpu.stop(), wallSeconds: (performance.now() - g0) / 1000, clientCpuSeconds: 0 };
      } else {
        const [args, limit] = benchArgs(w, seconds);
        // The servers' CPU of the measured part alone, without the workload's setup and cleanup.
        let measuring = cpu;
        let measured: CpuShare | undefined;
        const bench = await kvdbBench(cluster.url, token ? [...args, "--token", token] : args, limit * 1000, (what) => {
          if (what === "begin") measuring = measureCpu(groups);
          else measured ??= measuring.stop();
        });
        m = { bench, cpu: measured ?? measuring.stop(), rss: rss?.stop(), wallSeconds: bench.wallSeconds, clientCpuSeconds: bench.clientCpuSeconds };
      }
      result.runs[w] = m;
      log(`  ${result.target} ${w}: ${headline(w, m)}`);
    } catch (e) {
      rss?.stop();
      const msg = (e as Error).message;
      const why = (msg.split("\n").find((l) => l.trim() && !l.startsWith("kvdb bench ")) ?? msg).trim();
      result.failures.push(`${w}: ${why}`);
      log(`  ${result.target} ${w} failed: ${why}`);
    }
  }
}
