/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) as markdown: where the CPU went by
 * module (self time, and inclusive time: samples with that module anywhere on the
 * stack), and the top functions by self time.
 *   node dist/node/bench/profile-summary.js <file.cpuprofile> [--top 25]
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What a frame belongs to: a package, a Node core area, a kvdb source file, or V8 itself. */
export function moduleOf(f: CallFrame): string {
  const { url, functionName: fn } = f;
  if (!url) {
    if (fn === "(idle)") return "(idle)";
    if (fn === "(garbage collector)") return "(garbage collector)";
    if (fn === "(root)") return "(root)";
    if (fn === "(program)") return "(program: native, outside JS)";
    return "(native builtins)";
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  const own = /\/dist\/node\/(.+)\.js$/.exec(url);
  if (own) return `kvdb ${own[1]}.ts`;
  const core = /^node:(?:internal\/)?(.+?)(?:\.js)?$/.exec(url);
  if (core) {
    const p = core[1];
    if (/^(_http|http|deps\/undici|fetch)/.test(p)) return p.startsWith("deps/undici") ? "node:undici (fetch)" : "node:http";
    if (/^(net|stream|streams|socket|tcp|dns)/.test(p)) return "node:net+streams";
    if (/^(crypto)/.test(p)) return "node:crypto";
    if (/^(fs)/.test(p)) return "node:fs";
    return `node:${p.split("/")[0]}`; // timers, process, events, util, url, buffer, …
  }
  return url.replace(/^file:\/\//, "");
}

function frameLabel(f: CallFrame): string {
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|dist\/node)\//, "$1/")}:${f.lineNumber + 1}` : "native";
  return `${f.functionName || "(anonymous)"} (${where})`;
}

export interface Summary {
  totalMs: number;
  idleMs: number;
  modules: { module: string; selfMs: number; inclusiveMs: number }[];
  functions: { label: string; module: string; selfMs: number }[];
}

export function summarise(p: CpuProfile): Summary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample i lasted until the next one; the last gets the mean interval.
  const mean = (p.endTime - p.startTime) / Math.max(1, p.samples.length);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : mean;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + Math.max(0, dt));
  }
  const modSelf = new Map<string, number>();
  const modIncl = new Map<string, number>();
  const fnSelf = new Map<string, { label: string; module: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const mod = moduleOf(node.callFrame);
    total += us;
    if (mod === "(idle)") idle += us;
    modSelf.set(mod, (modSelf.get(mod) ?? 0) + us);
    const label = frameLabel(node.callFrame);
    const f = fnSelf.get(label) ?? { label, module: mod, us: 0 };
    f.us += us;
    fnSelf.set(label, f);
    // Inclusive: once per module found anywhere on this stack (busy samples only).
    if (mod === "(idle)") continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) seen.add(moduleOf(byId.get(at)!.callFrame));
    seen.delete("(root)");
    for (const m of seen) modIncl.set(m, (modIncl.get(m) ?? 0) + us);
  }
  const ms = (us: number) => us / 1000;
  return {
    totalMs: ms(total),
    idleMs: ms(idle),
    modules: [...modSelf.keys()]
      .map((module) => ({ module, selfMs: ms(modSelf.get(module)!), inclusiveMs: ms(modIncl.get(module) ?? 0) }))
      .sort((a, b) => b.selfMs - a.selfMs),
    functions: [...fnSelf.values()].map((f) => ({ label: f.label, module: f.module, selfMs: ms(f.us) })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : "-");

/** Markdown: the module table and the top functions, as shares of the busy (non-idle) CPU time. */
export function summaryMarkdown(s: Summary, top = 20): string {
  const busy = s.totalMs - s.idleMs;
  const lines = [
    `Sampled ${(s.totalMs / 1000).toFixed(1)} s; idle ${pct(s.idleMs, s.totalMs)}; busy ${(busy / 1000).toFixed(1)} s = 100% below.`,
    "",
    "| module | self | inclusive (on the stack) |",
    "|---|---:|---:|",
    ...s.modules.filter((m) => m.module !== "(idle)" && m.selfMs / busy >= 0.002).map((m) => `| ${m.module} | ${pct(m.selfMs, busy)} | ${pct(m.inclusiveMs, busy)} |`),
    "",
    `| top ${top} functions by self time | module | self |`,
    "|---|---|---:|",
    ...s.functions
      .filter((f) => f.module !== "(idle)")
      .slice(0, top)
      .map((f) => `| \`${f.label.replace(/\|/g, "\\|")}\` | ${f.module} | ${pct(f.selfMs, busy)} |`),
  ];
  return lines.join("\n") + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  const topAt = process.argv.indexOf("--top");
  if (!file) {
    console.error("usage: node dist/node/bench/profile-summary.js <file.cpuprofile> [--top N]");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  process.stdout.write(summaryMarkdown(summarise(profile), topAt > 0 ? Number(process.argv[topAt + 1]) : 20));
}
