/**
 * LazyFS mounts for power-loss tests: a FUSE file system that keeps every write in
 * its own cache until it is fsynced, and drops what was not on command. What it models
 * and what it does not: ../shared/tools/lazyfs/README.md. The binary comes from
 * LAZYFS_BIN (.ci/run builds it) or build.sh's default output; nothing is built here.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO, tempDir } from "../harness/paths.ts";

/** lazyfs.sh: LAZYFS_SH, else the shared tools beside the repository (where CI puts them). */
const SCRIPT = process.env.LAZYFS_SH ?? join(REPO, "..", "shared", "tools", "lazyfs", "lazyfs.sh");
const BIN = process.env.LAZYFS_BIN ?? join(process.env.TMPDIR ?? tmpdir(), "lazyfs-build", "lazyfs", "build", "lazyfs");

export interface LazyFs {
  /** The mount point. */
  dir: string;
  /** Drops every write not yet synced, as a power cut would. Stop the writers first. */
  crash(): void;
  /** Unmounts and removes the backing files (again: a no-op). */
  remove(): void;
  /** Why the mount no longer works (its daemon died: LazyFS has been seen to segfault), or "". */
  broken(): string;
}

function lazyfs(...args: string[]): string {
  return execFileSync("bash", [SCRIPT, ...args], {
    env: { ...process.env, LAZYFS_BIN: BIN },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  }).toString();
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh LazyFS mount whose cache holds `cache` (say "512mb": keep it above what the
 * test writes, or later writes bypass it), or the reason there cannot be one.
 */
export function mountLazyFs(cache: string): LazyFs | string {
  if (!existsSync(SCRIPT)) return `no ${SCRIPT} (set LAZYFS_SH)`;
  if (!executable(BIN)) return `LazyFS is not built: no ${BIN} (set LAZYFS_BIN; bash ${dirname(SCRIPT)}/build.sh builds it)`;
  if (!existsSync("/dev/fuse")) return "no /dev/fuse";
  const root = tempDir("kvdb-lazyfs");
  const dir = join(root, "mnt");
  let mounted = true;
  const remove = () => {
    if (mounted) {
      mounted = false;
      try {
        lazyfs("umount", dir); // also stops a daemon whose mount failed, and removes its state
      } catch {
        // a mount left in /proc/mounts shows it
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  try {
    lazyfs("mount", join(root, "backing"), dir, cache);
  } catch (e) {
    remove();
    const { stderr, stdout, status } = e as { stderr?: Buffer; stdout?: Buffer; status?: number };
    const why = `${stderr ?? ""}\n${stdout ?? ""}`.trim().split("\n")[0] || `lazyfs.sh mount exited ${status ?? "abnormally"}`;
    return `cannot mount LazyFS (FUSE not usable here?): ${why}`;
  }
  process.once("exit", remove); // also when the test throws before its own cleanup
  const broken = () => {
    try {
      statSync(dir);
      return "";
    } catch (e) {
      return `the LazyFS mount stopped working (${(e as NodeJS.ErrnoException).code}: its daemon is gone, see dmesg); this run says nothing about kvdb`;
    }
  };
  return { dir, crash: () => void lazyfs("crash", dir), remove, broken };
}
