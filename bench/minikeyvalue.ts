/**
 * minikeyvalue, the peer kvdb is measured against, from ../shared/peers/minikeyvalue
 * (its README): built with its build.sh (Go, nginx), started fresh with its start.sh
 * (Go master + 3 nginx volumes, 3 replicas, loopback), stopped by killing its process
 * group. It fsyncs nothing, and its master reads each uploaded value into memory.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../harness/kvdb.ts";
import { REPO } from "../harness/paths.ts";
import type { Target } from "./runtimes.ts";

export const PEER_DIR = resolve(REPO, "..", "shared", "peers", "minikeyvalue");

/** Builds the peer; the reason it cannot be built, or undefined once it is. */
export function buildMinikeyvalue(logFile: string): string | undefined {
  if (!existsSync(join(PEER_DIR, "build.sh"))) return `${PEER_DIR}/build.sh not found`;
  const out = openSync(logFile, "a");
  try {
    // Installs Debian's Go and nginx when missing (as root), then builds once: minutes at most.
    const r = spawnSync("bash", [join(PEER_DIR, "build.sh")], { stdio: ["ignore", out, out], timeout: 600_000 });
    if (r.status !== 0) return `build.sh exited ${r.status ?? r.signal} (see ${logFile}): ${lastLine(logFile)}`;
  } finally {
    closeSync(out);
  }
  return undefined;
}

const lastLine = (file: string) => readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";

/** A base port whose next three are free too (start.sh puts the volumes there). */
async function fourFreePorts(): Promise<number> {
  const { createServer } = await import("node:net");
  const free = (port: number) =>
    new Promise<boolean>((done) => {
      const s = createServer();
      s.once("error", () => done(false));
      s.listen(port, "127.0.0.1", () => s.close(() => done(true)));
    });
  for (let i = 0; i < 20; i++) {
    const base = await freePort();
    if (base < 65_000 && (await free(base + 1)) && (await free(base + 2)) && (await free(base + 3))) return base;
  }
  throw new Error("no 4 consecutive free ports for minikeyvalue");
}

/** The processes of a process group (the master and the nginx volumes), from /proc. */
function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pgid) pids.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * A fresh minikeyvalue cluster with its data under `dir`, which nginx's workers (not
 * root) must be able to reach: the caller makes its parents traversable.
 */
export async function startMinikeyvalue(dir: string, logFile: string): Promise<Target & { stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const port = await fourFreePorts();
  const out = openSync(logFile, "a");
  let pgid = 0;
  const stop = async () => {
    if (!pgid) return;
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pgid, s);
      } catch {
        // already gone
      }
    };
    signal("SIGTERM");
    for (let i = 0; i < 50 && groupPids(pgid).length; i++) await new Promise((r) => setTimeout(r, 100));
    signal("SIGKILL");
    for (let i = 0; i < 50 && groupPids(pgid).length; i++) await new Promise((r) => setTimeout(r, 100));
  };
  try {
    // start.sh returns once a PUT works (at most ~20 s); its processes live on in their own group.
    const r = spawnSync("bash", [join(PEER_DIR, "start.sh"), String(port), dir, "3"], { stdio: ["ignore", out, out], timeout: 60_000 });
    if (existsSync(join(dir, "pgid"))) pgid = Number(readFileSync(join(dir, "pgid"), "utf8").trim());
    if (r.status !== 0) throw new Error(`start.sh exited ${r.status ?? r.signal}: ${lastLine(logFile)}`);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    closeSync(out);
  }
  // The group leader execs the Go master (start.sh); the others are nginx.
  return { url: `http://127.0.0.1:${port}`, masterPid: pgid, volumePids: groupPids(pgid).filter((p) => p !== pgid), stop };
}
