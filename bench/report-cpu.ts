/**
 * docs/PERFORMANCE.md's first table: the servers' own CPU time per operation (master
 * and volumes, user + system from /proc, divided by the operations done), beside the
 * same figure of minikeyvalue from the same run, and issue 23's targets on it. Unlike a
 * rate, this does not depend on how much of the 2 shared cores the load generator took.
 */
import type { Measured, Measurement, TargetResult } from "./plan.ts";
import { stepOf } from "./kvdb-bench.ts";
import { PEER } from "./report-rows.ts";

interface CpuRow {
  label: string;
  run: Measurement;
  /** The unit one figure is per, and how many of them the run did. */
  per: string;
  count: (m: Measured) => number | undefined;
  /** ms, or µs for cheap requests. */
  unit: "ms" | "µs";
  /** The target: at most this multiple of minikeyvalue's figure (issue 23), by runtime. */
  atMost?: Partial<Record<string, number>>;
  /** Compared with this run of the same runtime instead of with minikeyvalue (its target: issue 26's). */
  against?: { run: Measurement; name: string };
}

const cycles = (m: Measured) => stepOf(m.bench, "thrash", "cycle")?.ops;
const redirects = (m: Measured) => stepOf(m.bench, "redirect", "get 302")?.ops;

const ROWS: CpuRow[] = [
  { label: "1 KiB cycle (thrash: PUT → GET 302 → read → DELETE, 16 clients)", run: "thrash", per: "cycle", count: cycles, unit: "ms", atMost: { node: 1.5, deno: 1.5, bun: 1.5 } },
  { label: "1 MiB cycle (thrash `--size 1MiB`, 16 clients)", run: "thrash1m", per: "cycle", count: cycles, unit: "ms", atMost: { node: 1.5, deno: 1.5, bun: 1 } },
  { label: "PUT of 1 GiB with `curl -L -T` (a direct write for kvdb)", run: "put1g", per: "MB", count: (m) => (m.put ? m.put.bytes / 1e6 : undefined), unit: "ms" },
  { label: "redirect GET (302, 16 clients)", run: "redirect", per: "request", count: redirects, unit: "µs" },
  {
    label: "redirect GET with a client key's Bearer token (authentication on)",
    run: "redirect-auth",
    per: "request",
    count: redirects,
    unit: "µs",
    atMost: { node: 1.15, deno: 1.15, bun: 1.15 },
    against: { run: "redirect", name: "without a key" },
  },
  { label: "missing-key GET (404, 16 clients)", run: "missing", per: "request", count: (m) => stepOf(m.bench, "missing", "get 404")?.ops, unit: "µs" },
];

interface PerOp {
  master: number;
  volumes: number;
  total: number;
}

function perOp(row: CpuRow, t: TargetResult | undefined, run = row.run): PerOp | undefined {
  const m = t?.runs[run];
  const n = m && row.count(m);
  if (!m || !n) return undefined;
  const scale = (row.unit === "ms" ? 1e3 : 1e6) / n;
  const { master = 0, volumes = 0 } = m.cpu.seconds;
  return { master: master * scale, volumes: volumes * scale, total: (master + volumes) * scale };
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The table and, under it, the targets met or not. */
export function cpuPerOpSection(targets: TargetResult[]): string {
  const peer = targets.find((t) => t.target === PEER && !t.error);
  const shown = targets.filter((t) => !t.error);
  const lines = [
    `| server CPU per operation | ${shown.map((t) => t.target).join(" | ")} |`,
    `|---|${shown.map(() => "---:|").join("")}`,
  ];
  const verdicts: string[] = [];
  for (const row of ROWS) {
    const cells = shown.map((t) => {
      const f = perOp(row, t);
      if (!f) return "–";
      const base = row.against ? perOp(row, t, row.against.run) : t !== peer ? perOp(row, peer) : undefined;
      const versus = row.against?.name ?? PEER;
      const ratio = base ? f.total / base.total : undefined;
      const limit = row.atMost?.[t.target];
      if (ratio !== undefined && limit !== undefined) {
        verdicts.push(`${row.label}, ${t.target}: ≤ ${limit}× ${versus}: ${ratio <= limit ? "**met**" : "**not met**"} (${ratio.toFixed(2)}×)`);
      }
      return `**${fmt(f.total)}** ${row.unit}<br>master ${fmt(f.master)} + volumes ${fmt(f.volumes)}${ratio !== undefined ? `<br>${ratio.toFixed(2)}× ${versus}` : ""}`;
    });
    lines.push(`| ${row.label}, ${row.unit} per ${row.per} | ${cells.join(" | ")} |`);
  }
  return [
    `User + system CPU time of the servers (the master and the 3 volume processes; ${PEER}'s Go master and nginx volumes), read from /proc around the measured part of each workload (without its setup and cleanup) and divided by the operations it completed. The load generator's CPU is not in it.`,
    "",
    lines.join("\n"),
    "",
    "Issue 23's and 26's targets on these figures:",
    "",
    ...(verdicts.length ? verdicts.map((v) => `- ${v}`) : [`- cannot tell: no ${PEER} figures in this run`]),
  ].join("\n");
}
