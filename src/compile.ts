/**
 * `npm run compile` (run by Bun): builds the standalone executable dist/kvdb.
 *
 * Why a plugin: classic-level's binding.js is `require('node-gyp-build')(__dirname)`,
 * which looks for the native addon on disk at run time. `bun build --compile` cannot
 * see through that, so the executable would load the addon from this machine's
 * node_modules by absolute path and fail anywhere else (docs/RUNTIMES.md, trap 1).
 * The plugin replaces binding.js by a static `require()` of the prebuild for this
 * platform; Bun then embeds that .node file and unpacks it to a temp dir at run time.
 *
 * Not part of tsconfig (it needs Bun's globals); the few Bun types it uses are declared below.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

interface OnLoadArgs {
  path: string;
}
interface PluginBuilder {
  onLoad(options: { filter: RegExp }, callback: (args: OnLoadArgs) => { contents: string; loader: "js" }): void;
}
interface BunPlugin {
  name: string;
  setup(build: PluginBuilder): void;
}
interface BuildOutput {
  success: boolean;
  logs: unknown[];
}
declare const Bun: {
  build(config: {
    entrypoints: string[];
    compile: { outfile: string };
    target: "bun";
    plugins: BunPlugin[];
  }): Promise<BuildOutput>;
};

const ROOT = fileURLToPath(new URL("..", import.meta.url)); // the repo, wherever the build is run from
const OUTFILE = join(ROOT, "dist", "kvdb");

/**
 * The prebuilt addon for the platform this build runs on, the way node-gyp-build
 * picks it: prebuilds/<platform>-<arch>[+<arch>…]/, glibc or musl flavour on Linux.
 * (The executable embeds the Bun binary running this build, so "this platform" is right.)
 */
function prebuildFor(packageDir: string): string {
  const { platform, arch } = process;
  const prebuilds = join(packageDir, "prebuilds");
  const musl = platform === "linux" && existsSync("/etc/alpine-release"); // node-gyp-build's own test
  const dirs = existsSync(prebuilds) ? readdirSync(prebuilds).sort() : [];
  for (const dir of dirs.filter((d) => d.split("-")[0] === platform && d.split("-")[1]?.split("+").includes(arch))) {
    const addon = readdirSync(join(prebuilds, dir)).find((f) => f.endsWith(".node") && f.split(".").includes("musl") === musl);
    if (addon) return join(prebuilds, dir, addon);
  }
  throw new Error(
    `no classic-level prebuild for ${platform}-${arch}${musl ? " (musl)" : ""} under ${prebuilds} ` +
      `(found: ${dirs.join(", ") || "nothing"}); cannot embed the LevelDB addon`,
  );
}

let embedded: string | undefined; // the addon the plugin pointed binding.js at

const embedClassicLevelAddon: BunPlugin = {
  name: "embed-classic-level-addon",
  setup(build) {
    build.onLoad({ filter: /[\\/]classic-level[\\/]binding\.js$/ }, (args) => {
      embedded = prebuildFor(dirname(args.path));
      // A literal path Bun can follow at build time: it bundles the .node file.
      return { contents: `module.exports = require(${JSON.stringify(embedded)});`, loader: "js" };
    });
  },
};

try {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "mod.ts")],
    compile: { outfile: OUTFILE },
    target: "bun",
    plugins: [embedClassicLevelAddon],
  });
  if (!result.success) throw new AggregateError(result.logs, "build failed");
  // If classic-level ever stops loading its addon through binding.js, say so rather than ship a binary that fails elsewhere.
  if (!embedded) throw new Error("classic-level/binding.js was not in the bundle: its native addon is not embedded");
  console.log(`compiled ${OUTFILE} (embeds ${relative(ROOT, embedded)})`);
} catch (e) {
  // Bun.build rejects with an AggregateError of build messages (our plugin's error among them).
  const errors = e instanceof AggregateError ? e.errors : [e];
  for (const err of errors) console.error(`compile: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
