/** dist/kvdb, the standalone Bun binary: built (npm run compile) when missing or older than the source. */
import { readdirSync, statSync } from "node:fs";
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

/** Builds dist/kvdb unless it is newer than src/ and mod.ts; `log` hears why it builds. */
export async function ensureBinary(log: (line: string) => void): Promise<void> {
  let built = 0;
  try {
    built = statSync(BINARY).mtimeMs;
  } catch {
    // missing
  }
  const source = Math.max(newest(join(REPO, "src")), statSync(PATHS.modTs).mtimeMs);
  if (built >= source) return;
  log(built ? "dist/kvdb is older than the source: npm run compile" : "dist/kvdb missing: npm run compile");
  const r = await runChild([PATHS.bun, join(REPO, "src", "compile.ts")], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`npm run compile failed:\n${r.stderr || r.stdout}`);
}
