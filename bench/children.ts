/**
 * The child processes a benchmark starts: every one is remembered, so an error, a
 * timeout or Ctrl-C kills them all (by pid) before the temp dirs are removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { childEnv, REPO } from "../tests/cluster.ts";

const live = new Set<ChildProcess>();

export function remember(proc: ChildProcess): void {
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
}

/**
 * Stops a child: SIGTERM, so one that starts children of its own (bench/put-rss) can
 * stop them and remove its files; SIGKILL if it is still there after `graceMs`.
 */
function end(proc: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    proc.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

/** Stops every child still running and waits until they are gone. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => end(p)));
}

export interface Server {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a server that prints "port=N" when it listens. */
export function startServer(cmd: string, args: string[], timeoutMs = 15_000): Promise<Server> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: REPO, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    remember(proc);
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} did not start in ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    proc.stderr!.on("data", (d) => (out += d));
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /port=(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]),
        proc,
        stop: () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
          return exited;
        },
      });
    });
  });
}

export interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion, stopped after `timeoutMs`. Without the shell's KVDB_*
 * settings: a KVDB_BENCH_SIZE there must not change what the report says was measured.
 */
export function run(cmd: string, args: string[], timeoutMs: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: REPO, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    remember(proc);
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (d) => (stdout += d));
    proc.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(stopped after ${timeoutMs} ms)`;
      void end(proc);
    }, timeoutMs);
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    });
  });
}
