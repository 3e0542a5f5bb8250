/**
 * A cluster as the README runs one: three `kvdb volume` processes and a `kvdb master`
 * (3 replicas), each its own process, under one runtime, data in a temp dir.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { HOST, RUNTIMES, spawnKvdb, type KvdbServer } from "../harness/kvdb.ts";
import { PATHS } from "../harness/paths.ts";

export type RuntimeName = "node" | "deno" | "bun";

/** The node flags in dist/node/mod.js's shebang (`#!/usr/bin/env -S node --flag …`). */
export function nodeFlags(): string[] {
  try {
    const first = readFileSync(PATHS.kvdbNode, "utf8").split("\n", 1)[0];
    const m = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(first);
    return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
  } catch {
    return [];
  }
}

/**
 * How each runtime runs kvdb: on Node the compiled JS through its shebang (node with
 * the flags mod.ts's first line gives, as `npx kvdb` runs it), the TypeScript source
 * on Deno, the single binary for Bun.
 */
export const COMMANDS: Record<RuntimeName, string[]> = {
  node: [process.execPath, ...nodeFlags(), PATHS.kvdbNode],
  deno: [...RUNTIMES.deno],
  bun: [PATHS.kvdbBinary],
};

export const LABELS: Record<RuntimeName, string> = {
  node: `Node (\`${["node", ...nodeFlags(), "dist/node/mod.js"].join(" ")}\`)`,
  deno: "Deno (`deno task kvdb`: `deno run -A --v8-flags=--max-semi-space-size=1 mod.ts`)",
  bun: "Bun binary (`dist/kvdb`)",
};

export interface BenchCluster {
  url: string;
  masterPid: number;
  volumePids: number[];
  /** What the master printed so far (its start line). */
  masterOutput(): string;
  /** SIGINT to the master, then to the volumes (a clean stop: --cpu-prof profiles get written); SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** Commands that replace the runtime's for the master or the first volume (say, node --cpu-prof). */
export interface Overrides {
  master?: readonly string[];
  firstVolume?: readonly string[];
  /** Copies of each value; 3 unless given. */
  replicas?: number;
  /** More options for the master (say, --s3-port). */
  masterArgs?: string[];
}

/**
 * Makes the 65,536 blob directories (blobs/aa/bb, src/keys/keys.ts blobPath) of the volumes
 * under `dir`, as a volume has them once it has held a few hundred thousand values. A
 * fresh volume makes one, durably (mkdir and two more fsyncs), on nearly every small
 * PUT: 30–40% fewer thrash cycles than a volume that has been running a while, which is
 * what the bench means to measure. Slow (~7 s per volume here), so the bench makes them
 * once and keeps the volumes' blobs/ between clusters (resetVolumes).
 */
export function makeBlobDirs(dir: string): void {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  for (const v of VOLUMES) {
    for (let a = 0; a < 256; a++) {
      mkdirSync(join(dir, v, "blobs", hex(a)), { recursive: true });
      for (let b = 0; b < 256; b++) mkdirSync(join(dir, v, "blobs", hex(a), hex(b)), { recursive: true });
    }
  }
  // Hundreds of MB of new directory blocks would otherwise be written back during the
  // first workload, slowing its fsyncs.
  execFileSync("sync");
}

/** Everything under `dir` but the volumes' blobs/ trees: the next cluster starts with empty indexes. */
export function resetVolumes(dir: string): void {
  for (const e of readdirSync(dir)) {
    if (!VOLUMES.includes(e)) rmSync(join(dir, e), { recursive: true, force: true });
    else for (const f of readdirSync(join(dir, e))) if (f !== "blobs") rmSync(join(dir, e, f), { recursive: true, force: true });
  }
}

const VOLUMES = ["v1", "v2", "v3"];

/** SIGINT, a clean stop (--cpu-prof profiles get written); SIGKILL after 15 s. */
const stopGently = (child: KvdbServer) => child.stop("SIGINT", 15_000);

export async function startBenchCluster(runtime: RuntimeName, dir: string, o: Overrides = {}): Promise<BenchCluster> {
  // Every process that started, as soon as it has: one that fails must not leave the others running.
  const volumes: KvdbServer[] = [];
  let master: KvdbServer | undefined;
  const stop = async () => {
    if (master) await stopGently(master);
    await Promise.all(volumes.map(stopGently));
  };
  try {
    mkdirSync(dir, { recursive: true });
    const started = await Promise.allSettled(
      VOLUMES.map(async (v, i) => {
        const child = await spawnKvdb(["volume", join(dir, v), "--port", "0", "--host", HOST], {}, 60_000, (i === 0 && o.firstVolume) || COMMANDS[runtime]);
        volumes.push(child);
        return child;
      }),
    );
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const names = volumes.map((v) => `${HOST}:${v.port}`).join(",");
    master = await spawnKvdb(["master", "--volumes", names, "--db", join(dir, "master"), "--port", "0", "--host", HOST, "--replicas", String(o.replicas ?? 3), ...(o.masterArgs ?? [])], {}, 60_000, o.master ?? COMMANDS[runtime]);
    return { url: master.url, masterPid: master.proc.pid!, volumePids: volumes.map((v) => v.proc.pid!), masterOutput: master.output, stop };
  } catch (e) {
    await Promise.all([master, ...volumes].map((c) => c?.stop("SIGKILL")));
    throw e;
  }
}
