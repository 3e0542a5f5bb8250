/**
 * The master's memory during one big PUT: starts 3 volumes and a master as child
 * processes under one runtime (as `npm run bench` does), streams a generated value
 * (default 1 GiB; never held in memory) with 3 replicas, samples the master's VmRSS
 * from /proc every 100 ms and prints the value size, time, throughput and the master's
 * peak RSS (sampled and VmHWM). The master is fresh: it has served nothing before.
 *
 *   node dist/node/bench/put-rss.js [--size 1GiB] [--replicas 3] [--runtime node|deno|bun]
 *   npm run bench:rss -- --size 256MiB
 */
import { rmSync } from "node:fs";
import process from "node:process";
import { parseSize } from "../src/cli/size.ts";
import { option } from "./argv.ts";
import { stopAll } from "../harness/children.ts";
import { streamGet, streamPut } from "../harness/data.ts";
import { tempDir } from "../harness/paths.ts";
import { procKiB, sampleRss } from "./rss.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { benchClusterOptions, type RuntimeName } from "./runtimes.ts";

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function main(): Promise<number> {
  let size: number;
  let replicas: number;
  let runtime: RuntimeName;
  try {
    const parsed = parseSize(option("size", "1GiB"));
    if (parsed === undefined || parsed < 1) throw new Error(`bad --size (say 1GiB, 512MiB, 100MB, 12345)`);
    size = parsed;
    replicas = Number(option("replicas", "3"));
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 3) throw new Error("--replicas must be 1, 2 or 3");
    runtime = option("runtime", "node") as RuntimeName;
    if (!["node", "deno", "bun"].includes(runtime)) throw new Error("--runtime must be node, deno or bun");
  } catch (e) {
    console.error(`put-rss: ${(e as Error).message}`);
    return 2;
  }

  const dir = tempDir("kvdb-put-rss");
  let cluster: Cluster | undefined;
  const interrupted = () => {
    void stopAll().finally(() => (rmSync(dir, { recursive: true, force: true }), process.exit(130)));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    cluster = await startCluster(benchClusterOptions(runtime, dir, { replicas }));
    const pid = cluster.master.pid;
    const sampler = sampleRss(pid);

    const t0 = performance.now();
    const put = await streamPut(`${cluster.url}/bench/put-rss`, size, { seed: "put-rss", timeoutMs: 30 * 60_000 });
    const seconds = (performance.now() - t0) / 1000;
    const rss = sampler.stop();
    const hwmKiB = procKiB(pid, "VmHWM");

    if (put.status !== 201 || put.headers["content-md5"] !== put.md5) {
      console.error(`put-rss: PUT answered ${put.status} ${put.body.trim()} ${put.error?.message ?? ""}`);
      return 1;
    }
    // Check the stored value without holding it: follow the redirect and hash the stream.
    const loc = await streamGet(`${cluster.url}/bench/put-rss`);
    const got = loc.status === 302 ? await streamGet(String(loc.headers.location)) : undefined;
    const verified = got?.status === 200 && got.size === size && got.md5 === put.md5;

    console.log(`value size         ${size} bytes (${mib(size)} MiB), ${replicas} replicas, Content-Length, ${runtime}`);
    console.log(`seconds            ${seconds.toFixed(2)}`);
    console.log(`MB/s               ${(size / 1e6 / seconds).toFixed(0)} (client → master; MB = 10^6 bytes)`);
    console.log(`master peak RSS    ${rss.peakMiB.toFixed(1)} MiB sampled every 100 ms (${rss.samples} samples; idle ${rss.idleMiB.toFixed(1)} MiB, median ${rss.medianMiB.toFixed(1)} MiB)`);
    console.log(`master VmHWM       ${(hwmKiB / 1024).toFixed(1)} MiB`);
    console.log(`read back          ${verified ? "ok, md5 " + put.md5 : "MISMATCH"}`);
    return verified ? 0 : 1;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await cluster?.close("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
