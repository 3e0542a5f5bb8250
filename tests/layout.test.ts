/**
 * The rules the source layout keeps (README, Architecture), checked on the source
 * itself: no import cycle under src/, master and volume apart, the shared folders below
 * every role, S3 above the master (through its values API only), the index free of
 * HTTP, the index's store and the calls to volumes each behind their one module.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPO } from "../harness/paths.ts";

const SRC = join(REPO, "src");

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const files = new Map(sources().map((f) => [relative(REPO, f), readFileSync(f, "utf8")]));
const IMPORT = /(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

/** What a file imports: repo-relative paths for relative imports, package names otherwise. */
function importsOf(file: string): string[] {
  return [...files.get(file)!.matchAll(IMPORT)].map(([, spec]) => (spec.startsWith(".") ? normalize(join(dirname(file), spec)) : spec));
}

test("there is no import cycle under src/", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, "open");
    for (const next of importsOf(file).filter((i) => files.has(i))) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next].join(" → "));
      else if (!state.has(next)) visit(next, [...path, next]);
    }
    state.set(file, "done");
  };
  for (const f of files.keys()) if (!state.has(f)) visit(f, [f]);
  assert.equal(cycles, []);
});

test("master and volume never import each other", () => {
  const crossing = [...files.keys()].filter((f) => {
    const other = f.startsWith("src/master/") ? "src/volume/" : f.startsWith("src/volume/") ? "src/master/" : undefined;
    return other && importsOf(f).some((i) => i.startsWith(other));
  });
  assert.equal(crossing, []);
});

/** What every role shares: HTTP answers, observing (metrics, logs), the master-volume wire format, signing, the runtime adapters, keys, durable commits. */
const SHARED = ["http", "observe", "wire", "signing", "runtime", "keys", "durable"];

test("the shared folders never import a role's folder (master, volume, s3, ops, cli, loadgen)", () => {
  const reaching = [...files.keys()].flatMap((f) => {
    const folder = f.split("/")[1];
    if (!SHARED.includes(folder)) return [];
    return importsOf(f)
      .filter((i) => i.startsWith("src/") && i.split("/").length > 2 && !SHARED.includes(i.split("/")[1]))
      .map((i) => `${f} → ${i}`);
  });
  assert.equal(reaching, []);
});

/** Each file's imports that start with `prefix`, as "file → import". */
const importing = (from: (f: string) => boolean, prefix: string) =>
  [...files.keys()].filter(from).flatMap((f) => importsOf(f).filter((i) => i.startsWith(prefix)).map((i) => `${f} → ${i}`));

test("the master never imports s3/ (S3 sits above it; src/server.ts wires the two)", () => {
  assert.equal(importing((f) => f.startsWith("src/master/"), "src/s3/"), []);
});

test("s3/ imports from master/ only the values API (master/values.ts, and the types it exports)", () => {
  assert.equal(importing((f) => f.startsWith("src/s3/"), "src/master/").filter((i) => !i.endsWith("→ src/master/values.ts")), []);
});

test("the index imports nothing from http/ (it throws domain errors: src/errors.ts)", () => {
  assert.equal(importing((f) => f.startsWith("src/master/index/"), "src/http/"), []);
});

test("http/ and runtime/ never import each other (the runtime gets what it needs as parameters: runtime/fast-path.ts)", () => {
  assert.equal([...importing((f) => f.startsWith("src/http/"), "src/runtime/"), ...importing((f) => f.startsWith("src/runtime/"), "src/http/")], []);
});

test("only the index's own implementation opens LevelDB on the master's side", () => {
  const users = [...files.keys()].filter((f) => !f.startsWith("src/volume/") && importsOf(f).includes("classic-level"));
  assert.equal(users.sort(), ["src/master/index/level-rebuild.ts", "src/master/index/level-tables.ts", "src/master/index/level.ts"]);
});

test("only the volume client calls out from the master (and the CLI's clients of the master: jobs, status)", () => {
  const callers = [...files.keys()].filter((f) => /runtime\.call\(|(?<![.\w])upload\(|(?<![.\w])request\(/.test(files.get(f)!) && !/^src\/(runtime|volume|loadgen)\//.test(f));
  assert.equal(callers.sort(), ["src/master/volume-client.ts", "src/ops/job-client.ts", "src/ops/status.ts", "src/wire/outgoing-body.ts"]);
});

test("tests and bench start masters and volumes through the harness's one builder (harness/cluster.ts, harness/servers.ts)", () => {
  // Value imports and dynamic imports of the start functions (src/server.ts: `kvdb master`'s; the
  // roles' start.ts); `import type` starts nothing.
  const START = /^import (?!type\b)[^;]*?from\s*["'][^"']+\/(?:master\/start|volume\/start|server)\.ts["']|import\(\s*["'][^"']+\/(?:master\/start|volume\/start|server)\.ts["']\s*\)/m;
  const SPAWN = /spawnKvdb\(\s*\[\s*"(?:master|volume)"/;
  const others = ["tests", "bench", "harness"].flatMap((dir) => sources(join(REPO, dir))).map((f) => relative(REPO, f));
  const starters = others.filter((f) => {
    const text = readFileSync(join(REPO, f), "utf8");
    return START.test(text) || SPAWN.test(text);
  });
  // master-app.test and bench/direct-cost.ts (the direct answers' cost, in-process) build a Master by hand;
  // volume-durable.test imports the volume after its fsync hook;
  // cli.test, security.test and safe-default.test check the commands' own flags, environment and refusals.
  assert.equal(starters.sort(), ["bench/direct-cost.ts", "harness/servers.ts", "tests/cli.test.ts", "tests/master-app.test.ts", "tests/safe-default.test.ts", "tests/security.test.ts", "tests/volume-durable.test.ts"]);
});

test("the streamed and the batched write share one retry policy and one undo (write-policy.ts) and reach volumes only through the volume client", () => {
  for (const f of ["src/master/streamed-write.ts", "src/master/batched-write.ts"]) {
    const imports = importsOf(f);
    assert.ok(imports.includes("src/master/write-policy.ts"), f);
    assert.equal(imports.filter((i) => /^src\/master\/(streamed-write|batched-write|replicas|batches)\.ts$|^src\/wire\/upload\.ts$/.test(i)), [], f);
  }
});

test.run();
