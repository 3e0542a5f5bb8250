/** The machine a benchmark ran on: CPU, memory, kernel, disk, runtime versions. */
import { execFileSync } from "node:child_process";
import { cpus, release, totalmem } from "node:os";
import { PATHS, REPO } from "../harness/paths.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  disk: string;
  node: string;
  deno: string;
  bun: string;
  date: string;
  /** The commit measured, and whether the work tree had changes on top of it. */
  code: string;
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).split("\n")[0].trim();
  } catch {
    return "unavailable";
  }
}

function codeVersion(): string {
  const head = firstLine("git", ["-C", REPO, "log", "-1", "--format=%h %s"]);
  const dirty = firstLine("sh", ["-c", `git -C ${JSON.stringify(REPO)} status --porcelain -- src mod.ts | wc -l`]);
  return Number(dirty) > 0 ? `${head} (+ uncommitted changes in ${dirty} files of src/ and mod.ts)` : head;
}

export function describeMachine(dataDir: string): Machine {
  const c = cpus();
  // The filesystem the cluster writes to: device, type and mount options.
  const df = firstLine("sh", ["-c", `df -T ${JSON.stringify(dataDir)} | tail -1 | awk '{print $1" "$2}'`]);
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    disk: df,
    node: process.version,
    deno: firstLine(PATHS.deno, ["--version"]),
    bun: firstLine(PATHS.bun, ["--version"]),
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    code: codeVersion(),
  };
}
