/**
 * A cluster as docs/COMMANDS.md runs one by hand: three `kvdb volume` processes and a `kvdb master`
 * (3 replicas), each its own process, under one runtime, data in a temp dir. Give each
 * cluster a new dir: users start with fresh volumes (no blob directories made yet), and
 * so does the benchmark.
 */
import { mkdirSync, readFileSync } from "node:fs";
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

/** A running cluster of kvdb or of minikeyvalue (bench/minikeyvalue.ts). */
export interface Cluster {
  url: string;
  masterPid: number;
  volumePids: number[];
  stop(): Promise<void>;
}

export interface BenchCluster extends Cluster {
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
  /** More options for every volume (say, --secret). */
  volumeArgs?: string[];
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
        const child = await spawnKvdb(["volume", join(dir, v), "--port", "0", "--host", HOST, ...(o.volumeArgs ?? [])], {}, 60_000, (i === 0 && o.firstVolume) || COMMANDS[runtime]);
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
