/**
 * `kvdb bench`: runs the chosen workloads one after another against a master and
 * prints a table (or JSON with --json). Returns the exit code: 0 if every operation
 * went right, 1 if any failed or the master cannot be reached.
 */
import { randomBytes } from "node:crypto";
import process from "node:process";
import { HttpClient } from "./http-client.ts";
import type { BenchOptions } from "./options.ts";
import { Progress } from "./progress.ts";
import { formatSize } from "../cli/size.ts";
import type { WorkloadResult } from "./stats.ts";
import { errorCount, renderTable } from "./table.ts";
import { workloads, type Run } from "./workloads.ts";

function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.versions.node}`;
}

/** What begins each line of stderr that brackets a measured part (`… begin thrash`, `… end thrash`). */
export const MEASURE_MARK = "kvdb bench: measuring";

export async function bench(o: BenchOptions): Promise<number> {
  const http = new HttpClient(o.concurrency, o.token ? { origin: o.master.origin, authorization: `Bearer ${o.token}` } : undefined);
  const id = randomBytes(4).toString("hex");
  const prefix = `/kvdb-bench/${id}`;
  const progress = new Progress(process.stderr);
  let stopped = false;
  // Ctrl-C: stop starting operations, finish the ones in flight, clean up, print what was measured.
  const stop = () => {
    if (stopped) process.exit(130);
    stopped = true;
    progress.done();
    process.stderr.write("kvdb bench: stopping (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", stop);
  try {
    const probe = await http.send({ method: "GET", url: new URL(`${prefix}/probe`, o.master), idleMs: 5000 });
    if (probe.status === 0) {
      console.error(`kvdb: cannot reach the master at ${o.master.origin}: ${probe.error}`);
      return 1;
    }
    const head =
      `kvdb bench master=${o.master.origin} workloads=${o.workloads.join(",")} concurrency=${o.concurrency} ` +
      `size=${formatSize(o.size)} large-size=${formatSize(o.largeSize)} count=${o.count} seconds=${o.seconds} ` +
      `client=${runtimeName()} run=${id}`;
    if (!o.json) console.log(head);
    // With --json (a program reading the output), the measured part of each workload is
    // bracketed on stderr, so the reader can take its own readings (bench/plan.ts: the
    // servers' CPU) without the workload's setup and cleanup.
    const mark = (what: string, w: string) => o.json && process.stderr.write(`${MEASURE_MARK} ${what} ${w}\n`);
    const run: Run = {
      o,
      http,
      prefix,
      stopped: () => stopped,
      track: (w, step) => {
        mark("begin", w);
        progress.show(w, step, o.seconds);
      },
      measured: (w) => mark("end", w),
    };
    const results: WorkloadResult[] = [];
    for (const name of o.workloads) {
      if (stopped) break;
      results.push(await workloads[name](run));
      progress.done();
    }
    const errors = errorCount(results);
    if (o.json) {
      const options = { ...o, master: o.master.origin };
      const cpu = process.cpuUsage();
      const clientCpuSeconds = (cpu.user + cpu.system) / 1e6;
      console.log(JSON.stringify({ options, client: runtimeName(), run: id, errors, clientCpuSeconds, results }, null, 2));
    } else {
      process.stdout.write(renderTable(results));
      console.log(errors ? `${errors} operations failed` : "no errors");
    }
    for (const w of results) {
      for (const s of w.steps) for (const m of s.kind === "cycle" ? [] : s.messages) console.error(`kvdb bench: ${w.workload} ${s.step}: ${m}`);
    }
    return errors || stopped ? 1 : 0;
  } finally {
    progress.done();
    process.off("SIGINT", stop);
    http.close();
  }
}
