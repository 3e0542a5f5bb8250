/**
 * The documentation's own rules (issue 22): README.md stays a map of at most 300 lines,
 * the topics in docs/*.md; every relative link in them names a file that exists and,
 * with a #fragment, a heading of that file (as GitHub makes its anchors); every source
 * file they name exists, and so does every docs/ file the code cites. A file moved or
 * renamed without its mentions fails here.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { REPO } from "../harness/paths.ts";

const DOCS = [join(REPO, "README.md"), ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(REPO, "docs", f))];

/** A file's text without its fenced code blocks, where `[a](b)` and `# x` are code. */
const prose = (file: string) => readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "");

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/ /g, "-");

/** The anchors of a markdown file's headings; a repeated one gets -1, -2, … as on GitHub. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(file).matchAll(/^#+ (.+)$/gm)) {
    const s = slug(heading);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n === 0 ? s : `${s}-${n}`);
  }
  return out;
}

test("README.md is a map: at most 300 lines", () => {
  const lines = readFileSync(join(REPO, "README.md"), "utf8").split("\n").length - 1;
  assert.ok(lines <= 300, `README.md has ${lines} lines: move the section into the docs/ file where it belongs`);
});

test("every relative link in README.md and docs/*.md names a file that exists, and a heading of it", () => {
  const broken: string[] = [];
  for (const file of DOCS) {
    for (const [, target] of prose(file).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      const [path, fragment] = target.split("#", 2);
      const to = path ? join(dirname(file), path) : file;
      const where = `${relative(REPO, file)}: ${target}`;
      if (!existsSync(to)) broken.push(`${where} (no such file)`);
      else if (fragment && to.endsWith(".md") && !anchors(to).has(fragment)) broken.push(`${where} (no such heading)`);
    }
  }
  assert.equal(broken, []);
});

/** Repository paths of source files in a text: src/…, tests/…, bench/…, harness/…, .ci/… (not dist/node/bench/…). */
const SOURCE_PATH = /(?<![\w/.-])((?:src|tests|bench|harness|\.ci)\/[\w./-]+\.(?:ts|sh|py))\b/g;

test("every source file README.md and docs/*.md name exists", () => {
  const missing = DOCS.flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(SOURCE_PATH)].map(([, path]) => path).filter((path) => !existsSync(join(REPO, path))).map((path) => `${relative(REPO, file)}: ${path}`),
  );
  assert.equal([...new Set(missing)], []);
});

/** Every file under a folder of the repository, recursively. */
const under = (dir: string): string[] =>
  readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? under(join(dir, e.name)) : [join(dir, e.name)]));

test("every docs/*.md the code cites exists", () => {
  const missing = ["src", "tests", "bench", "harness", ".ci"]
    .flatMap(under)
    .filter((f) => /\.(ts|sh)$/.test(f))
    .flatMap((f) => [...readFileSync(join(REPO, f), "utf8").matchAll(/\bdocs\/([\w-]+\.md)/g)].map(([, doc]) => doc).filter((doc) => !existsSync(join(REPO, "docs", doc))).map((doc) => `${f}: docs/${doc}`));
  assert.equal([...new Set(missing)], []);
});

test("the anchors are GitHub's", () => {
  assert.is(slug("Serving requests on Bun: node:http, not Bun.serve"), "serving-requests-on-bun-nodehttp-not-bunserve");
  assert.is(slug("Placement at 1,000 volumes"), "placement-at-1000-volumes");
  assert.is(slug("fsyncs per acknowledged PUT (group commit)"), "fsyncs-per-acknowledged-put-group-commit");
});

test.run();
