/** Runs `kvdb bench --json` (the load generator) and parses its results. */
import { existsSync } from "node:fs";
import type { WorkloadResult } from "../src/loadgen/stats.ts";
import { runChild } from "../harness/children.ts";
import { PATHS } from "../harness/paths.ts";
import { MEASURE_MARK } from "../src/loadgen/bench.ts";

export type ClientName = "node" | "bun";

const CLIENTS: Record<ClientName, { command: string[]; label: string }> = {
  node: { command: [process.execPath, PATHS.kvdbNode], label: "`kvdb bench` under Node (dist/node/mod.js)" },
  bun: { command: [PATHS.kvdbBinary], label: "`kvdb bench` of the Bun binary (dist/kvdb)" },
};

/**
 * Which build of `kvdb bench` sends the load. The Bun binary's, when built: the same
 * code has the higher ceiling there (57–63k requests/s against bench/null-server on
 * this 2-core box, against 42–51k under Node), and a figure cannot show more than that.
 */
let client: ClientName = existsSync(PATHS.kvdbBinary) ? "bun" : "node";

export function useClient(name: ClientName): void {
  client = name;
}

export function clientLabel(): string {
  return CLIENTS[client].label;
}

export interface BenchOutput {
  errors: number;
  results: WorkloadResult[];
  /** CPU seconds the load generator used (its own report). */
  clientCpuSeconds: number;
  /** Wall seconds of the whole `kvdb bench` process (set here). */
  wallSeconds: number;
}

/** `onMark`: called as the load generator begins and ends the measured part of a workload (src/loadgen/bench.ts's MEASURE_MARK lines). */
export async function kvdbBench(master: string, args: string[], timeoutMs: number, onMark?: (what: "begin" | "end", workload: string) => void): Promise<BenchOutput> {
  const t0 = performance.now();
  let partial = "";
  const onStderr = (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      const m = line.startsWith(MEASURE_MARK) ? / (begin|end) (\S+)$/.exec(line) : null;
      if (m) onMark?.(m[1] as "begin" | "end", m[2]);
    }
  };
  const r = await runChild([...CLIENTS[client].command, "bench", "--json", "--master", master, ...args], { timeoutMs, onStderr });
  r.stderr = r.stderr
    .split("\n")
    .filter((l) => !l.startsWith(MEASURE_MARK))
    .join("\n");
  let out: BenchOutput;
  try {
    out = { ...(JSON.parse(r.stdout) as BenchOutput), wallSeconds: (performance.now() - t0) / 1000 };
  } catch {
    throw new Error(`kvdb bench ${args.join(" ")} exited ${r.code} without results:\n${r.stderr.trim()}`);
  }
  if (out.errors) console.error(`  ${out.errors} failed operations:\n${r.stderr.trim().replace(/^/gm, "    ")}`);
  return out;
}

/** One step's figures from a bench output. */
export function stepOf(out: BenchOutput | undefined, workload: string, step: string) {
  return out?.results.find((w) => w.workload === workload)?.steps.find((s) => s.step === step);
}
