/** dist/kvdb, the standalone Bun binary: built (npm run compile) when missing or older than the source. */
import { execFile } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./cluster.ts";

export const BINARY = join(REPO, "dist", "kvdb");

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
  const source = Math.max(newest(join(REPO, "src")), statSync(join(REPO, "mod.ts")).mtimeMs);
  if (built >= source) return;
  log(built ? "dist/kvdb is older than the source: npm run compile" : "dist/kvdb missing: npm run compile");
  await new Promise<void>((resolve, reject) =>
    execFile(join(REPO, "node_modules", ".bin", "bun"), [join(REPO, "src", "compile.ts")], { cwd: REPO, timeout: 300_000 }, (e, stdout, stderr) =>
      e ? reject(new Error(`npm run compile failed:\n${stderr || stdout || e.message}`)) : resolve(),
    ),
  );
}
