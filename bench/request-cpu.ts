/**
 * The CPU a cluster's processes spend per request, by kind: a fresh cluster (3 volumes
 * and a master, 3 replicas) under one runtime, then PUTs of new keys, GETs of them (the
 * 302, not followed) and DELETEs of them, each phase `--count` requests from
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
import { Agent, request } from "node:http";
import process from "node:process";
import { parseSize } from "../src/cli/size.ts";
import { stopAll } from "../harness/children.ts";
import { tempDir } from "../harness/paths.ts";
import { option } from "./argv.ts";
import { processCpuSeconds } from "./cpu.ts";
import { startCluster } from "../harness/cluster.ts";
import { benchClusterOptions, type RuntimeName } from "./runtimes.ts";

interface Phase {
  name: string;
  method: string;
  expect: number;
  body?: Uint8Array;
}

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
  const port = Number(new URL(cluster.url).port);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const call = (method: string, path: string, body?: Uint8Array) =>
    new Promise<number>((resolve, reject) => {
      const headers = { ...(body ? { "content-length": String(body.byteLength) } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
      const req = request({ host: "127.0.0.1", port, method, path, agent, headers }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(body);
    });
  const value = new Uint8Array(size).fill(7);
  const phases: Phase[] = [
    { name: "PUT", method: "PUT", expect: 201, body: value },
    { name: "GET (302)", method: "GET", expect: 302 },
    { name: "DELETE", method: "DELETE", expect: 204 },
  ];
  const run = async (round: string, n: number, print: boolean) => {
    for (const p of phases) {
      let next = 0;
      const pids = [cluster.master.pid, ...cluster.volumes.map((v) => v.pid)];
      const before = pids.map(processCpuSeconds);
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) {
            const i = next++;
            const status = await call(p.method, `/request-cpu/${round}/${i}`, p.body);
            if (status !== p.expect) throw new Error(`${p.method} answered ${status}, not ${p.expect}`);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const spent = pids.map((pid, i) => ((processCpuSeconds(pid) - before[i]) * 1e6) / n);
      const volumes = spent.slice(1).reduce((a, b) => a + b, 0);
      if (print) console.log(`${p.name.padEnd(10)} ${(n / seconds).toFixed(0).padStart(6)}/s   master ${spent[0].toFixed(0).padStart(5)} µs   3 volumes ${volumes.toFixed(0).padStart(5)} µs   per request`);
    }
  };
  try {
    console.log(`${runtime} cluster${token ? " (every request with a Bearer token)" : ""}, ${concurrency} clients, ${size}-byte values, ${count} requests a phase (CPU per request: utime + stime)`);
    await run("warm-up", Math.min(count, 500), false);
    await run("measured", count, true);
  } finally {
    agent.destroy();
    await cluster.close("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on("SIGINT", () => void stopAll().finally(() => process.exit(130)));
main().catch((e) => {
  console.error(`request-cpu: ${(e as Error).message}`);
  void stopAll().finally(() => process.exit(1));
});
