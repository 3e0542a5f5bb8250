/** dist/kvdb, the standalone Bun binary: built (npm run compile) when missing or older than the source. */
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { runChild } from "./children.ts";
import { PATHS, REPO } from "./paths.ts";

export const BINARY = PATHS.kvdbBinary;

/** The newest mtime of the .ts files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(".ts")) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

const COMPILE_MS = 300_000;

/**
 * Builds dist/kvdb unless it is newer than src/ and mod.ts; `log` hears why it builds.
 * Test files run two at a time (tests/run.ts): one builds while the other waits for it
 * (a lock dir), instead of both writing the file at once.
 */
export async function ensureBinary(log: (line: string) => void): Promise<void> {
  const lock = `${BINARY}.lock`;
  const deadline = Date.now() + COMPILE_MS;
  for (;;) {
    try {
      mkdirSync(lock, { recursive: false });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      // A lock older than a build can take was left by a killed run.
      if (Date.now() - statSync(lock).mtimeMs > COMPILE_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} held for ${COMPILE_MS / 1000} s`);
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    await buildIfStale(log);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function buildIfStale(log: (line: string) => void): Promise<void> {
  let built = 0;
  try {
    built = statSync(BINARY).mtimeMs;
  } catch {
    // missing
  }
  const source = Math.max(newest(join(REPO, "src")), statSync(PATHS.modTs).mtimeMs);
  if (built >= source) return;
  log(built ? "dist/kvdb is older than the source: npm run compile" : "dist/kvdb missing: npm run compile");
  const r = await runChild([PATHS.bun, join(REPO, "src", "compile.ts")], { timeoutMs: COMPILE_MS });
  if (r.code !== 0) throw new Error(`npm run compile failed:\n${r.stderr || r.stdout}`);
}
