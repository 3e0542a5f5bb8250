/**
 * The runtimes the benchmark compares, and its clusters as docs/COMMANDS.md runs one by
 * hand: three `kvdb volume` processes and a `kvdb master` (3 replicas), each its own
 * process, under one runtime, started by the harness's cluster builder (harness/cluster.ts). Give each
 * cluster a new dir: users start with fresh volumes (no blob directories made yet), and
 * so does the benchmark.
 */
import { readFileSync } from "node:fs";
import type { Cluster, ClusterOptions } from "../harness/cluster.ts";
import { PATHS } from "../harness/paths.ts";
import type { Runtime } from "../harness/server-options.ts";

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
 * How each runtime runs kvdb (harness/kvdb.ts RUNTIMES): on Node the compiled JS through
 * its shebang (node with the flags mod.ts's first line gives, as `npx kvdb` runs it), the
 * TypeScript source on Deno, the single binary for Bun.
 */
const RUNTIME: Record<RuntimeName, Runtime> = { node: "node", deno: "deno", bun: "binary" };

export const LABELS: Record<RuntimeName, string> = {
  node: `Node (\`${["node", ...nodeFlags(), "dist/node/mod.js"].join(" ")}\`)`,
  deno: "Deno (`deno task kvdb`: `deno run -A --v8-flags=--max-semi-space-size=1 mod.ts`)",
  bun: "Bun binary (`dist/kvdb`)",
};

/** The options of a benchmark's cluster under `runtime`, its data in `dir` (kept: the caller removes it). */
export function benchClusterOptions(runtime: RuntimeName, dir: string, o: ClusterOptions = {}): ClusterOptions {
  return { runtime: RUNTIME[runtime], dir, volumes: 3, replicas: 3, readyTimeoutMs: 60_000, ...o };
}

/** What a workload measures on a cluster, kvdb's or minikeyvalue's (bench/minikeyvalue.ts). */
export interface Target {
  url: string;
  masterPid: number;
  volumePids: number[];
}

export function targetOf(c: Cluster): Target {
  return { url: c.url, masterPid: c.master.pid, volumePids: c.volumes.map((v) => v.pid) };
}
