/**
 * The machine's own limits, measured in the same run as kvdb:
 *   disk     sequential writes with fsync (dd conv=fsync): 1 GiB, and 3× each PUT size
 *   loopback one 1 GiB file sent over loopback and read by curl -o /dev/null, from
 *            Bun.file (the fastest server primitive) and from sendfile(2) (what nginx
 *            does; minikeyvalue's volumes are nginx)
 *   client   the load generator's ceiling: kvdb bench against a server that does nothing
 *   hono     the bare Hono ceiling: the same against Hono on @hono/node-server giving the
 *            master's answers with no work (bench/hono-server.ts)
 */
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { runChild, startChild, type Child } from "../harness/children.ts";
import { PATHS, REPO } from "../harness/paths.ts";
import { kvdbBench, stepOf } from "./kvdb-bench.ts";
import { nodeCommand } from "./runtimes.ts";

const GiB = 2 ** 30;

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export interface DiskRate {
  /** MiB written per run. */
  mib: number;
  /** MB/s of each run. */
  runs: number[];
  median: number;
}

/**
 * MB/s of `dd if=/dev/zero bs=1M count=<mib> conv=fsync`, `runs` times. This disk
 * (a VM's) absorbs a burst of a GiB or so far faster than it sustains, so the size
 * matters: a PUT of N bytes with 3 replicas writes 3N, and is compared with dd of 3N.
 */
export async function diskFsyncMBps(dir: string, mib: number, runs: number): Promise<DiskRate> {
  const file = join(dir, `dd-${mib}MiB`);
  const all: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await runChild(["dd", "if=/dev/zero", `of=${file}`, "bs=1M", `count=${mib}`, "conv=fsync"], { timeoutMs: 180_000 });
      const seconds = (performance.now() - t0) / 1000;
      if (r.code !== 0) throw new Error(`dd failed: ${r.stderr.trim()}`);
      // dd's own figure ("… copied, 2.48 s, 433 MB/s"), or our clock if it cannot be read.
      const m = /copied, ([\d.]+) s/.exec(r.stderr);
      all.push((mib * 2 ** 20) / 1e6 / (m ? Number(m[1]) : seconds));
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(file, { force: true });
  }
  return { mib, runs: all, median: median(all) };
}

/** A reference server (bench/file-server.ts, sendfile-server.py, null-server.ts): it prints "port=N" once listening. */
async function startServer(command: string[]): Promise<Child & { port: number }> {
  const { child, match } = await startChild(command, /port=(\d+)/);
  return { ...child, port: Number(match[1]) };
}

/** A file of `mib` MiB (one random MiB repeated), for sends and PUTs of large values. */
export function writeRandomFile(file: string, mib: number): void {
  const block = randomBytes(1 << 20);
  const fd = openSync(file, "w");
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

export interface SendRates {
  bunFile: number[];
  sendfile: number[] | null;
}

/** curl -o /dev/null of a 1 GiB file from Bun.file and from sendfile(2), MB/s of each run. */
export async function loopbackSendMBps(dir: string, runs = 3): Promise<SendRates> {
  const file = join(dir, "send-1GiB");
  const servers: Child[] = [];
  try {
    writeRandomFile(file, 1024);
    const curl = async (port: number) => {
      const rates: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await runChild(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}", `http://127.0.0.1:${port}/`], { timeoutMs: 60_000 });
        const [size, speed] = r.stdout.trim().split(" ").map(Number);
        if (r.code !== 0 || size !== GiB) throw new Error(`curl got ${size} bytes (exit ${r.code}) ${r.stderr}`);
        rates.push(speed / 1e6);
      }
      return rates;
    };
    const bun = await startServer([PATHS.bun, join(REPO, "bench", "file-server.ts"), file]);
    servers.push(bun);
    const bunFile = await curl(bun.port);
    await bun.stop();
    let sendfile: number[] | null = null;
    try {
      const py = await startServer(["python3", join(REPO, "bench", "sendfile-server.py"), file]);
      servers.push(py);
      sendfile = await curl(py.port);
      await py.stop();
    } catch (e) {
      console.error(`  no sendfile reference (python3 needed): ${(e as Error).message.split("\n")[0]}`);
    }
    return { bunFile, sendfile };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(file, { force: true });
  }
}

export interface Ceiling {
  redirect: number;
  missing: number;
}

/** 302s/s and 404s/s that kvdb bench reaches against a reference server (it prints "port=N"). */
async function ceilingOf(command: string[], seconds: number): Promise<Ceiling> {
  const server = await startServer(command);
  try {
    const out = await kvdbBench(`http://127.0.0.1:${server.port}`, ["--workload", "redirect,missing", "--seconds", String(seconds)], (2 * seconds + 60) * 1000);
    return {
      redirect: stepOf(out, "redirect", "get 302")?.opsPerSec ?? 0,
      missing: stepOf(out, "missing", "get 404")?.opsPerSec ?? 0,
    };
  } finally {
    await server.stop();
  }
}

/** The load generator's own ceiling: a node:http server doing no work (bench/null-server.ts). */
export function clientCeiling(seconds: number): Promise<Ceiling> {
  return ceilingOf([process.execPath, join(REPO, "dist", "node", "bench", "null-server.js")], seconds);
}

/**
 * The bare Hono ceiling of the Node master: Hono on @hono/node-server answering the
 * master's 302 (same headers) and 404 with no work (bench/hono-server.ts), run with the
 * master's node flags.
 */
export function honoCeiling(seconds: number): Promise<Ceiling> {
  return ceilingOf([...nodeCommand(), join(REPO, "dist", "node", "bench", "hono-server.js")], seconds);
}
