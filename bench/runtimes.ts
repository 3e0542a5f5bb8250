/**
 * A cluster as the README runs one: three `kvdb volume` processes and a `kvdb master`
 * (3 replicas), each its own process, under one runtime, data in a temp dir.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HOST, spawnKvdb, type Child } from "../tests/cluster.ts";
import { remember } from "./children.ts";
import { BIN } from "./machine.ts";

export type RuntimeName = "node" | "deno" | "bun";

/** The node flags in dist/node/mod.js's shebang (`#!/usr/bin/env -S node --flag …`). */
export function nodeFlags(): string[] {
  try {
    const first = readFileSync(BIN.kvdbNode, "utf8").split("\n", 1)[0];
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
  node: [process.execPath, ...nodeFlags(), BIN.kvdbNode],
  deno: [BIN.deno, "run", "-A", "--v8-flags=--max-semi-space-size=1", BIN.modTs], // as deno.json's task
  bun: [BIN.kvdbBinary],
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
  /** SIGINT to the master, then to the volumes (a clean stop: --cpu-prof profiles get written); SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** Commands that replace the runtime's for the master or the first volume (say, node --cpu-prof). */
export interface Overrides {
  master?: readonly string[];
  firstVolume?: readonly string[];
}

async function stopGently(child: Child): Promise<void> {
  const late = setTimeout(() => void child.stop("SIGKILL"), 15_000);
  await child.stop("SIGINT");
  clearTimeout(late);
}

async function spawnRemembered(args: string[], command: readonly string[]): Promise<Child> {
  const child = await spawnKvdb(args, {}, 60_000, command);
  remember(child.proc);
  return child;
}

export async function startBenchCluster(runtime: RuntimeName, dir: string, o: Overrides = {}): Promise<BenchCluster> {
  const children: Child[] = [];
  const stop = async () => {
    const [master, ...volumes] = children;
    if (master) await stopGently(master);
    await Promise.all(volumes.map(stopGently));
  };
  try {
    mkdirSync(dir, { recursive: true });
    const volumes = await Promise.all(
      [1, 2, 3].map((i) =>
        spawnRemembered(["volume", join(dir, `v${i}`), "--port", "0", "--host", HOST], (i === 1 && o.firstVolume) || COMMANDS[runtime]),
      ),
    );
    const names = volumes.map((v) => `${HOST}:${v.port}`).join(",");
    children.push(await spawnRemembered(["master", "--volumes", names, "--db", join(dir, "master"), "--port", "0", "--host", HOST, "--replicas", "3"], o.master ?? COMMANDS[runtime]), ...volumes);
    return { url: children[0].url, masterPid: children[0].proc.pid!, volumePids: volumes.map((v) => v.proc.pid!), stop };
  } catch (e) {
    await Promise.all(children.map((c) => c.stop("SIGKILL")));
    throw e;
  }
}
