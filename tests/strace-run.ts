/**
 * Runs a kvdb server under `strace -f` (every thread: Node does file I/O on its
 * thread pool), writing the trace of the calls that move, sync and name bytes to a
 * file, with every byte shown as \xNN so the data can be decoded exactly.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { RUNTIMES } from "../harness/kvdb.ts";
import type { ServerOptions } from "../harness/server-options.ts";
import type { Server } from "../harness/servers.ts";
import { fileActivity, type FileActivity } from "./strace-files.ts";
import { parseTrace } from "./strace-parse.ts";

const CALLS = [
  "open,openat,creat,close,dup,dup2,dup3,accept,accept4,socket,connect,rename,renameat,renameat2",
  "read,readv,recvfrom,recvmsg,write,writev,pwrite64,pwritev,pwritev2,sendto,sendmsg",
  "fsync,fdatasync,io_uring_setup,io_uring_enter",
].join(",");

/** Why strace cannot be used here ("" if it can): not installed, or ptrace not allowed. */
export function straceUnusable(): string {
  const probe = spawnSync("strace", ["-f", "-o", "/dev/null", "true"], { encoding: "utf8", timeout: 10_000 });
  if (probe.error) return `strace cannot run (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message})`;
  if (probe.status !== 0) return `strace cannot trace here (ptrace not allowed?): ${probe.stderr.trim().split("\n")[0]}`;
  return "";
}

export interface Traced<S extends Server = Server> {
  server: S;
  /** Kills the traced process, waits for strace to write the rest, and reads what it did (once). */
  finish(): Promise<FileActivity>;
}

/** The pid strace started (the traced kvdb). */
function tracee(strace: number): number {
  const children = readFileSync(`/proc/${strace}/task/${strace}/children`, "utf8").trim().split(/\s+/);
  return Number(children[0]);
}

/** The options of a traced server: a Node process without io_uring, which would hide file writes and syncs from strace. */
export const TRACED: ServerOptions = { runtime: "node", env: { UV_USE_IO_URING: "0" }, readyTimeoutMs: 60_000 };

/**
 * The server `make` builds with the command given (kvdb under strace), started (its
 * start line seen). `stringLimit`: how many bytes of each buffer strace shows (-s); a
 * smaller one keeps the trace of a process that moves MiBs of values small.
 */
export async function startTraced<S extends Server>(make: (command: readonly string[]) => S, traceFile: string, stringLimit = 262144): Promise<Traced<S>> {
  const strace = ["strace", "-f", "-tt", "-xx", "-s", String(stringLimit), "-o", traceFile, "-e", `trace=${CALLS}`, "--", ...RUNTIMES.node];
  const server = await make(strace).start();
  const child = server.child;
  let finished: Promise<FileActivity> | undefined;
  const finish = async () => {
    const straceExited = new Promise((r) => child.proc.once("exit", r));
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      process.kill(tracee(child.proc.pid!), "SIGKILL");
      // strace exits once its tracee is gone, after writing out the trace.
      const late = setTimeout(() => child.proc.kill("SIGKILL"), 10_000);
      await straceExited;
      clearTimeout(late);
    }
    return fileActivity(parseTrace(readFileSync(traceFile, "latin1")));
  };
  return { server, finish: () => (finished ??= finish()) };
}
