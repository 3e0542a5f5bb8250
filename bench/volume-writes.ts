/**
 * Durable small PUTs to one volume, alone (no master): values as files against values
 * inline in the catalog, at 1, 16 and 64 concurrent clients, to choose the volume's
 * inline threshold (docs/VOLUME-STORAGE.md). Two volume processes, one per form, take
 * turns, ROUNDS times, so a busy moment of this shared machine hits both. Each run
 * prints PUTs/s, p50/p99 latency, the volume's CPU per PUT and its fsyncs per PUT.
 *   node dist/node/bench/volume-writes.js [--sizes 1KiB,16KiB] [--clients 1,16,64]
 *     [--seconds 2] [--rounds 2] [--dirs]   (≈ sizes × clients × 2 × rounds × seconds)
 * The file volume starts with its 65,536 aa/bb dirs made, as a volume in service has
 * them (a few seconds first). --dirs compares instead two file volumes: a fresh one,
 * which makes each dir as PUTs need it, and one whose dirs were all made first.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseSize, formatSize } from "../src/cli/size.ts";
import { VolumeServer } from "../harness/servers.ts";
import { startChild, stopAll, type Child } from "../harness/children.ts";

/** A volume started by this script, in its own process. */
interface Server {
  port: number;
  child: Child;
}
import { measureCpu } from "./cpu.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};

interface Counters {
  fsyncs: Record<"file" | "dir" | "catalog", { count: number; ms: number }>;
}

async function counters(port: number): Promise<Counters> {
  const res = await fetch(`http://127.0.0.1:${port}/_kvdb/health?counters`);
  return (await res.json()) as Counters;
}

function put(agent: Agent, port: number, key: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "PUT", path: key, agent, headers: { "content-length": body.length } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let serial = 0;

/** `clients` loops PUTting new keys for `seconds`; PUTs/s, latencies, and the volume's CPU and fsyncs per PUT. */
async function run(v: Server, size: number, clients: number, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const body = Buffer.alloc(size, 7);
  const before = await counters(v.port);
  const cpu = measureCpu({ volume: [v.child.proc.pid!] });
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        const status = await put(agent, v.port, `/b/${process.pid}-${serial++}`, body);
        if (status !== 201) throw new Error(`PUT answered ${status}`);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const share = cpu.stop();
  const after = await counters(v.port);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  const per = (k: "file" | "dir" | "catalog") => ((after.fsyncs[k].count - before.fsyncs[k].count) / n).toFixed(2);
  return {
    rate: n / elapsed,
    p50: latencies[Math.floor(n * 0.5)],
    p99: latencies[Math.floor(n * 0.99)],
    cpuUs: (share.cores.volume * elapsed * 1e6) / n,
    machine: share.machine,
    fsyncs: `${per("file")} / ${per("dir")} / ${per("catalog")}`,
  };
}

function makeBlobDirs(root: string): void {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) mkdirSync(join(root, "blobs", hex(a), hex(b)), { recursive: true });
  execFileSync("sync"); // or the new dirs' blocks are written back during the runs, slowing their fsyncs
}

async function main(): Promise<void> {
  const sizes = arg("sizes", "1KiB,16KiB").split(",").map((s) => parseSize(s)!);
  const clientCounts = arg("clients", "1,16,64").split(",").map(Number);
  const seconds = Number(arg("seconds", "2"));
  const rounds = Number(arg("rounds", "2"));
  const dirsOnly = process.argv.includes("--dirs");
  const dir = mkdtempSync(join(tmpdir(), "kvdb-volume-writes-"));
  const self = fileURLToPath(import.meta.url);
  const stop = () => void stopAll().finally(() => rmSync(dir, { recursive: true, force: true }));
  process.once("SIGINT", stop);
  try {
    const variants: [string, number, boolean][] = dirsOnly
      ? [["fresh", 0, false], ["premade", 0, true]]
      : [["file", 0, true], ["inline", Math.max(...sizes), false]];
    const volumes: Record<string, Server> = {};
    for (const [name, inlineMax, premade] of variants) {
      if (premade) makeBlobDirs(join(dir, name));
      const { child, match } = await startChild([process.execPath, self, "--serve", join(dir, name), String(inlineMax)], /port=(\d+)/);
      volumes[name] = { port: Number(match[1]), child };
    }
    console.log(`size     clients  volume   PUTs/s   p50 ms  p99 ms  volume CPU µs/PUT  fsyncs/PUT file/dir/catalog  machine cores busy`);
    for (const size of sizes) {
      for (const clients of clientCounts) {
        for (let r = 0; r < rounds; r++) {
          for (const [name] of variants) {
            const m = await run(volumes[name], size, clients, seconds);
            console.log(
              `${formatSize(size).padEnd(8)} ${String(clients).padStart(7)}  ${name.padEnd(7)} ${m.rate.toFixed(0).padStart(7)} ${m.p50.toFixed(2).padStart(7)} ${m.p99.toFixed(2).padStart(7)} ${m.cpuUs.toFixed(0).padStart(18)}  ${m.fsyncs.padStart(28)}  ${m.machine.toFixed(2).padStart(18)}`,
            );
          }
        }
      }
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  // A volume process: --serve DIR INLINE_MAX
  const v = await new VolumeServer(process.argv[3], { inlineMax: Number(process.argv[4]) }).start();
  console.log(`port=${v.port}`);
} else {
  await main();
}
