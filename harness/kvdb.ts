/**
 * kvdb as a child process under each runtime it runs on: servers, awaited by their
 * start line, and commands, run to completion; and loopback ports for them.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { runChild, startChild, type Child, type Ran } from "./children.ts";
import { PATHS, REPO } from "./paths.ts";

export const HOST = "127.0.0.1";

/** deno.json's `kvdb` task, as `deno task kvdb` runs it. */
export const DENO_TASK = (JSON.parse(readFileSync(join(REPO, "deno.json"), "utf8")) as { tasks: { kvdb: string } }).tasks.kvdb;

/**
 * DENO_TASK as one process: its leading VAR=value settings through env(1) (which execs,
 * so the pid is Deno's), its paths made absolute.
 */
function denoTask(): string[] {
  const words = DENO_TASK.trim().split(/\s+/).map((w) => (w === "mod.ts" ? PATHS.modTs : w.startsWith("./") ? join(REPO, w) : w));
  return /^[A-Z_]+=/.test(words[0]) ? ["env", ...words] : words;
}

/**
 * The command that runs `kvdb` under each runtime: compiled JS on Node, the TypeScript
 * source on Deno and Bun, and the standalone Bun binary (harness/binary.ts builds it).
 */
export const RUNTIMES = {
  node: [PATHS.kvdbNode], // through its shebang, as `npx kvdb` runs it
  deno: denoTask(), // as `deno task kvdb` runs it
  bun: [PATHS.bun, PATHS.modTs],
  binary: [PATHS.kvdbBinary],
} as const satisfies Record<string, readonly string[]>;

/** A kvdb server running as a child process. */
export interface KvdbServer extends Child {
  url: string;
  port: number;
}

/**
 * Runs `kvdb ...args` (under Node unless `command` says otherwise) and resolves once it
 * printed its start line ("kvdb <role> url=...", the master's for `server`).
 */
export async function spawnKvdb(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
  command: readonly string[] = RUNTIMES.node,
): Promise<KvdbServer> {
  // `server` prints its volumes' start lines first: wait for the master's.
  const role = args[0] === "server" ? "master" : args[0];
  const startLine = new RegExp(`^kvdb ${role} url=(https?)://[^\\s:]+:(\\d+)`, "m");
  const { child, match } = await startChild([...command, ...args], startLine, { env, timeoutMs, name: `kvdb ${args.join(" ")}` });
  const port = Number(match[2]);
  return { ...child, port, url: `${match[1]}://${HOST}:${port}` };
}

/** Runs `kvdb ...args` to completion (a command, not a server); stopped after `timeoutMs`. */
export function runKvdb(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000, command: readonly string[] = RUNTIMES.node): Promise<Ran> {
  return runChild([...command, ...args], { env, timeoutMs });
}

/** A loopback port free at the time of asking (something else may take it after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
