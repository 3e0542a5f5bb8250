/**
 * Child processes of tests and benchmarks: run from the repository root without the
 * caller's KVDB_* settings, awaited by what they print (a readiness check, not a
 * sleep), and remembered while they run, so that an error, a timeout or Ctrl-C can
 * stop every one of them (stopAll) before their files are removed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { REPO } from "./paths.ts";

/**
 * A child's environment: this process's, less the KVDB_* and PORT settings a developer
 * may have exported (they would change every server started, and what a benchmark
 * says it measured), plus `env`.
 */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KVDB_") && k !== "PORT") base[k] = v;
  return { ...base, ...env };
}

/** Every child still running, with what it exits with (code or signal). */
const running = new Map<ChildProcess, Promise<number | string>>();

function launch(command: readonly string[], env: Record<string, string>): ChildProcess {
  const proc = spawn(command[0], command.slice(1), { cwd: REPO, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  running.set(proc, new Promise((resolve) => proc.once("exit", (code, signal) => resolve(code ?? signal ?? -1))));
  proc.once("exit", () => running.delete(proc));
  proc.once("error", () => running.delete(proc)); // never started: no exit will come
  return proc;
}

/**
 * Sends `signal` and resolves with the exit code or signal once the process is gone.
 * A signal it may handle slowly (SIGTERM, SIGINT: a server drains for up to 10 s) is
 * followed by SIGKILL after `graceMs`.
 */
function stopProcess(proc: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<number | string> {
  const exited = running.get(proc) ?? Promise.resolve(proc.exitCode ?? proc.signalCode ?? -1);
  if (proc.exitCode !== null || proc.signalCode !== null) return exited;
  proc.kill(signal);
  if (signal !== "SIGKILL") {
    const kill = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    void exited.then(() => clearTimeout(kill));
  }
  return exited;
}

/**
 * Stops every child still running and waits until they are gone: SIGTERM first, so one
 * with children of its own (bench/put-rss) can stop them and remove its files.
 */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...running.keys()].map((p) => stopProcess(p, "SIGTERM", graceMs)));
}

export interface Child {
  proc: ChildProcess;
  /** What it printed so far, stdout and stderr as they came. */
  output(): string;
  /** Sends `signal` (SIGKILL after `graceMs` if it was another) and resolves to its exit code or signal. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

export interface StartOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** How errors name the child; the command line unless given. */
  name?: string;
}

/**
 * Starts `command` and resolves once its output matches `ready`, with the match.
 * Rejects, the child killed, if it cannot be run, exits first, or is not ready in time.
 */
export function startChild(command: readonly string[], ready: RegExp, o: StartOptions = {}): Promise<{ child: Child; match: RegExpExecArray }> {
  const name = o.name ?? command.join(" ");
  const timeoutMs = o.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const proc = launch(command, o.env ?? {});
    let out = "";
    let started = false;
    const child: Child = { proc, output: () => out, stop: (signal = "SIGKILL", graceMs = 15_000) => stopProcess(proc, signal, graceMs) };
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      const match = started ? null : ready.exec(out);
      if (!match) return;
      started = true;
      clearTimeout(timer);
      resolve({ child, match });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command[0]}: ${e.message}`));
    });
    // 'close', not 'exit': by then all it printed is in `out`, for the message.
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code ?? signal} before starting:\n${out}`));
    });
  });
}

export interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs `command` to completion; one still running after `timeoutMs` is stopped, and its stderr says so. */
export function runChild(command: readonly string[], o: { env?: Record<string, string>; timeoutMs?: number; onStderr?: (chunk: string) => void } = {}): Promise<Ran> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const proc = launch(command, o.env ?? {});
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (d) => (stdout += d));
    proc.stderr!.on("data", (d) => {
      stderr += d;
      o.onStderr?.(String(d));
    });
    const timer = setTimeout(() => {
      stderr += `\n(stopped after ${timeoutMs} ms)`;
      void stopProcess(proc, "SIGTERM", 5000);
    }, timeoutMs);
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command[0]}: ${e.message}`));
    });
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    });
  });
}
