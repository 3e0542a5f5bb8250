/**
 * The CPU a cluster's processes spend per request, by kind: a fresh cluster (3 volumes
 * and a master, 3 replicas) under one runtime, then PUTs of new keys (as `curl -L -T`
 * sends them: over 1 KiB with Expect: 100-continue, a direct write's 307 followed), GETs
 * of them (the 302, not followed), GETs followed to the volume (the bytes read and
 * checked) and DELETEs of them, each phase `--count` requests from
 * `--concurrency` clients. For each phase: requests/s and the CPU time (utime + stime
 * from /proc, which the kernel scales to the threads' exact run time) the master and the
 * volumes spent, in µs per request. A warm-up round of the same three phases comes first.
 *
 * With --auth, an admin key is made in the index first and every request carries its
 * Bearer token (what authentication costs: docs/SECURITY.md).
 *
 *   node dist/node/bench/request-cpu.js [--runtime node|deno|bun] [--count 4000] [--concurrency 16] [--size 1KiB] [--auth]
 *   npm run bench:requests -- --concurrency 1
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { bootstrapKey } from "../src/ops/keys.ts";
import { HttpClient } from "../src/loadgen/http-client.ts";
import { Value } from "../src/loadgen/data.ts";
import { fetchValue, locate, put, remove, type Target } from "../src/loadgen/requests.ts";
import { Step } from "../src/loadgen/stats.ts";
import process from "node:process";
import { parseSize } from "../src/cli/size.ts";
import { stopAll } from "../harness/children.ts";
import { tempDir } from "../harness/paths.ts";
import { option } from "./argv.ts";
import { processCpuSeconds, processMinorFaults } from "./cpu.ts";
import { startCluster } from "../harness/cluster.ts";
import { benchClusterOptions, type RuntimeName } from "./runtimes.ts";

/** One phase: a request kind, done for every key in turn. */
interface Phase {
  name: string;
  run(t: Target, step: Step, value: Value): Promise<boolean>;
}

const PHASES: Phase[] = [
  { name: "PUT", run: (t, step, v) => put(t, step, v) },
  { name: "GET (302)", run: async (t, step, v) => (await locate(t, step, v)) !== undefined },
  { name: "GET+read", run: (t, step, v) => fetchValue(t, new Step("get"), step, v) },
  { name: "DELETE", run: (t, step, v) => remove(t, step, v.key) },
];

async function main(): Promise<void> {
  const runtime = option("runtime", "node") as RuntimeName;
  const count = Number(option("count", "4000"));
  const concurrency = Number(option("concurrency", "16"));
  const size = parseSize(option("size", "1KiB"));
  if (size === undefined || size < 1) throw new Error("--size needs a size of at least 1 byte (1KiB, 32KiB, 1MiB…)");
  const dir = tempDir("kvdb-request-cpu");
  // The cluster's index is dir/master (harness/cluster.ts).
  const token = process.argv.includes("--auth") ? /^token=(\S+)$/m.exec(await bootstrapKey(join(dir, "master"), "bench", [{ level: "admin" }]))![1] : undefined;
  const cluster = await startCluster(benchClusterOptions(runtime, dir));
  const http = new HttpClient(concurrency, token ? { origin: cluster.url, authorization: `Bearer ${token}` } : undefined);
  // As curl -L -T: a body over 1 KiB is offered with Expect: 100-continue, a 307 followed (a direct write).
  const target: Target = { http, master: new URL(cluster.url), allowRemote: false, idleMs: 30_000, expectOver: 1024 };
  const run = async (round: string, n: number, print: boolean) => {
    const values = Array.from({ length: n }, (_, i) => new Value(`/request-cpu/${round}/${i}`, size));
    for (const p of PHASES) {
      let next = 0;
      const step = new Step(p.name);
      const pids = [cluster.master.pid, ...cluster.volumes.map((v) => v.pid)];
      const before = pids.map(processCpuSeconds);
      const faultsBefore = pids.map(processMinorFaults);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) if (!(await p.run(target, step, values[next++]))) throw new Error(step.messages[0]);
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const spent = pids.map((pid, i) => ((processCpuSeconds(pid) - before[i]) * 1e6) / n);
      const faults = pids.map((pid, i) => (processMinorFaults(pid) - faultsBefore[i]) / n);
      const volumes = spent.slice(1);
      const sum = volumes.reduce((x, y) => x + y, 0);
      const each = volumes.map((v) => v.toFixed(0)).join(" + ");
      if (print) console.log(`${p.name.padEnd(10)} ${(n / seconds).toFixed(0).padStart(6)}/s   master ${spent[0].toFixed(0).padStart(5)} µs   3 volumes ${sum.toFixed(0).padStart(5)} µs (${each})   page faults: master ${faults[0].toFixed(1)}, volumes ${faults.slice(1).map((f) => f.toFixed(1)).join(" + ")}   per request`);
    }
  };
  try {
    console.log(`${runtime} cluster${token ? " (every request with a Bearer token)" : ""}, ${concurrency} clients, ${size}-byte values, ${count} requests a phase (CPU per request: utime + stime)`);
    await run("warm-up", Math.min(count, 500), false);
    await run("measured", count, true);
  } finally {
    http.close();
    await cluster.close("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on("SIGINT", () => void stopAll().finally(() => process.exit(130)));
main().catch((e) => {
  console.error(`request-cpu: ${(e as Error).message}`);
  void stopAll().finally(() => process.exit(1));
});
