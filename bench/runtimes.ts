/**
 * The runtimes the benchmark compares, and its clusters as docs/COMMANDS.md runs one by
 * hand: three `kvdb volume` processes and a `kvdb master` (3 replicas), each its own
 * process, under one runtime, started by the harness's cluster builder (harness/cluster.ts). Give each
 * cluster a new dir: users start with fresh volumes (no blob directories made yet), and
 * so does the benchmark.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import type { Cluster, ClusterOptions } from "../harness/cluster.ts";
import { PATHS } from "../harness/paths.ts";
import { DENO_TASK } from "../harness/kvdb.ts";
import type { Runtime } from "../harness/server-options.ts";

export type RuntimeName = "node" | "deno" | "bun";

/** The words of dist/node/mod.js's shebang after `env -S`: `VAR=value… node --flag…`. */
function shebang(): string[] {
  try {
    const first = readFileSync(PATHS.kvdbNode, "utf8").split("\n", 1)[0];
    return first.replace(/^#!\S*env\s+-S\s+/, "").split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The node flags in the shebang. */
function nodeFlags(): string[] {
  const words = shebang();
  return words.slice(words.indexOf("node") + 1).filter((w) => w.startsWith("--"));
}

/** The environment the shebang sets (its `:${VAR}` tails, the caller's own settings, left out). */
function nodeEnv(): Record<string, string> {
  const words = shebang();
  const settings = words.slice(0, Math.max(0, words.indexOf("node"))).map((w) => /^([A-Z_]+)=(.*)$/.exec(w)).filter((m) => m !== null);
  return Object.fromEntries(settings.map((m) => [m[1], m[2].replace(/:?\$\{\w+\}$/, "")]));
}

/** `env VAR=value… node --flag…`: what the shebang runs, for a script of the bench's own. */
export function nodeCommand(): string[] {
  return ["env", ...settings(nodeEnv()), process.execPath, ...nodeFlags()];
}

const settings = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/**
 * How each runtime runs kvdb (harness/kvdb.ts RUNTIMES): on Node the compiled JS through
 * its shebang (node with the flags mod.ts's first line gives, as `npx kvdb` runs it), the
 * TypeScript source on Deno, the single binary for Bun.
 */
const RUNTIME: Record<RuntimeName, Runtime> = { node: "node", deno: "deno", bun: "binary" };

export const LABELS: Record<RuntimeName, string> = {
  node: `Node (\`${[...settings(nodeEnv()), "node", ...nodeFlags(), "dist/node/mod.js"].join(" ")}\`: mod.js's shebang)`,
  deno: `Deno (\`deno task kvdb\`: \`${DENO_TASK.replace("./node_modules/.bin/deno", "deno")}\`)`,
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
