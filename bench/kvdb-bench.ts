/** Runs `kvdb bench --json` (the load generator, under Node) and parses its results. */
import type { WorkloadResult } from "../src/bench/stats.ts";
import { run } from "./children.ts";
import { BIN } from "./machine.ts";

export interface BenchOutput {
  errors: number;
  results: WorkloadResult[];
  /** CPU seconds the load generator used (its own report). */
  clientCpuSeconds: number;
  /** Wall seconds of the whole `kvdb bench` process (set here). */
  wallSeconds: number;
}

export async function kvdbBench(master: string, args: string[], timeoutMs: number): Promise<BenchOutput> {
  const t0 = performance.now();
  const r = await run(process.execPath, [BIN.kvdbNode, "bench", "--json", "--master", master, ...args], timeoutMs);
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
