/**
 * Where tests and benchmarks find things: the repository, the programs that run kvdb,
 * and fresh temp dirs.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The nearest folder above this file that holds package.json: the repository, whether
 * this runs as TypeScript (harness/) or compiled (dist/node/harness/), which counting
 * "../" could not tell apart.
 */
function findRepo(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

export const REPO = findRepo();

export const PATHS = {
  /** The compiled entrypoint, as `npx kvdb` runs it (npm run build). */
  kvdbNode: join(REPO, "dist", "node", "mod.js"),
  /** The standalone executable (npm run compile). */
  kvdbBinary: join(REPO, "dist", "kvdb"),
  /** The TypeScript entrypoint Deno and Bun run. */
  modTs: join(REPO, "mod.ts"),
  deno: join(REPO, "node_modules", ".bin", "deno"),
  bun: join(REPO, "node_modules", ".bin", "bun"),
};

/** A new, empty dir under the system's temp dir; the caller removes it. */
export function tempDir(label = "kvdb"): string {
  return mkdtempSync(join(tmpdir(), `${label}-`));
}
