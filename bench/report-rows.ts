/**
 * The rows of docs/PERFORMANCE.md's figures: each figure of a run, the ratios it is read
 * against (minikeyvalue measured in the same run, the machine's limits), and the
 * targets of issues 10 and 23 (where 23 raised one, its figure), as ratios to
 * minikeyvalue's figure from the same run.
 */
import type { StepSummary } from "../src/loadgen/stats.ts";
import { stepOf } from "./kvdb-bench.ts";
import { median, type Ceiling, type DiskRate, type SendRates } from "./limits.ts";
import type { TargetResult, WorkloadRun } from "./plan.ts";
import type { SyncCost } from "./sync-probe.ts";

export const PEER = "minikeyvalue";

export interface Limits {
  /** dd conv=fsync of 768 MiB (3 × 256 MiB), 1 GiB and 3 GiB (3 × 1 GiB); empty with --skip-limits. */
  disk: DiskRate[];
  send: SendRates;
  sync: SyncCost[];
  ceiling: Ceiling;
  hono: Ceiling;
}

export interface Goal {
  text: string;
  /** Whether `v` meets it; undefined if it cannot be told (no peer figure). */
  met(v: number, peer: number | undefined): boolean | undefined;
}

export interface Row {
  label: string;
  value: (r: TargetResult) => number | undefined;
  unit: string;
  /** How the figure is printed (default: a whole number). */
  fmt?: (v: number) => string;
  /** Ratios to the machine's limits shown under a kvdb figure: name → denominator. */
  limits: (r: TargetResult) => [string, number][];
  /** Issue 10's target for a kvdb runtime, if any. */
  goal?: (runtime: string) => Goal | undefined;
  /** minikeyvalue's figure to compare with, when not `value` of its own run (it has no --secret). */
  peerValue?: (peer: TargetResult) => number | undefined;
}

const int = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US"));

function figure(r: TargetResult, run: WorkloadRun, workload: string, step: string): StepSummary | undefined {
  return stepOf(r.runs[run]?.bench, workload, step);
}

/** At least `times` × minikeyvalue's figure of the same run. */
const peerTimes = (times: number): Goal => ({
  text: `≥ ${times}× ${PEER}`,
  met: (v, peer) => (peer === undefined ? undefined : v >= times * peer),
});

/** Per-runtime multiples (issue 10's Targets); a runtime not listed has none. */
const goals =
  (by: Partial<Record<string, number>>) =>
  (runtime: string): Goal | undefined =>
    by[runtime] === undefined ? undefined : peerTimes(by[runtime]!);
const everyRuntime = (times: number) => goals({ node: times, deno: times, bun: times });

/** MB/s of dd for `mib`, or of the closest size measured. */
function ddRate(l: Limits, mib: number): number {
  return l.disk.length ? [...l.disk].sort((a, b) => Math.abs(a.mib - mib) - Math.abs(b.mib - mib))[0].median : NaN;
}

export function rows(l: Limits, freshRss: Record<string, number>): Row[] {
  const fileSync = l.sync[0]?.parallelOpsPerSec ?? NaN;
  const sends = (): [string, number][] => [
    ["Bun.file send", l.send.bunFile.length ? median(l.send.bunFile) : NaN],
    ["sendfile", l.send.sendfile ? median(l.send.sendfile) : NaN],
  ];
  const rate = (run: WorkloadRun, step: string, workload = run.replace("-secret", "")): Row["value"] => (r) => figure(r, run, workload, step)?.opsPerSec;
  const ceilings = (kind: "redirect" | "missing") => (r: TargetResult): [string, number][] => [
    ["client ceiling", l.ceiling[kind]],
    ...(r.target === "node" ? ([["bare Hono (Node)", l.hono[kind]]] as [string, number][]) : []),
  ];
  return [
    {
      label: "thrash, 1 KiB values, 16 clients (cycles/s: PUT→GET→read→DELETE)",
      value: (r) => figure(r, "thrash", "thrash", "cycle")?.opsPerSec,
      unit: "/s",
      limits: () => [["disk: durable 1 KiB writes/s ÷ 3", fileSync / 3]],
      goal: goals({ bun: 2, node: 1.5, deno: 1.5 }),
    },
    {
      label: "thrash, 1 MiB values, 16 clients (cycles/s)",
      value: (r) => figure(r, "thrash1m", "thrash", "cycle")?.opsPerSec,
      unit: "/s",
      limits: () => [],
      goal: goals({ bun: 1.5, node: 1, deno: 1 }),
    },
    { label: "redirect GETs/s (302, 16 clients)", value: rate("redirect", "get 302"), unit: "/s", limits: ceilings("redirect"), goal: everyRuntime(2) },
    {
      label: "redirect GETs/s, `--secret` (signed URLs; against minikeyvalue's redirects, it has no secret)",
      value: rate("redirect-secret", "get 302"),
      peerValue: rate("redirect", "get 302"),
      unit: "/s",
      limits: ceilings("redirect"),
      goal: everyRuntime(2),
    },
    { label: "missing-key GETs/s (404, 16 clients)", value: rate("missing", "get 404"), unit: "/s", limits: ceilings("missing"), goal: everyRuntime(1) },
    {
      label: "missing-key GETs/s, `--secret` (against minikeyvalue's misses)",
      value: rate("missing-secret", "get 404"),
      peerValue: rate("missing", "get 404"),
      unit: "/s",
      limits: ceilings("missing"),
      goal: everyRuntime(1),
    },
    {
      label: "PUT 256 MiB, 3 replicas (MB/s)",
      value: (r) => figure(r, "large256", "large", "put")?.mbPerSec ?? undefined,
      unit: " MB/s",
      limits: () => [["fsync ÷ 3", ddRate(l, 768) / 3]],
      goal: goals({ bun: 3, node: 2, deno: 2 }),
    },
    {
      label: "PUT 1 GiB, 3 replicas (MB/s)",
      value: (r) => figure(r, "large1g", "large", "put")?.mbPerSec ?? undefined,
      unit: " MB/s",
      limits: () => [["fsync ÷ 3", ddRate(l, 3072) / 3]],
      goal: goals({ bun: 3, node: 2, deno: 2 }),
    },
    {
      label: "GET 1 GiB through the redirect, one at a time, `curl -L -o /dev/null` (MB/s, median of 2)",
      value: (r) => (r.runs.get1g?.gets ? median(r.runs.get1g.gets.single) : undefined),
      unit: " MB/s",
      limits: sends,
      goal: everyRuntime(1),
    },
    {
      label: "GET 1 GiB through the redirect, 4 at once, curl (MB/s, all 4)",
      value: (r) => r.runs.get1g?.gets?.four,
      unit: " MB/s",
      limits: () => [],
      goal: everyRuntime(1),
    },
    {
      label: "GET 1 GiB through the redirect, `kvdb bench` (MB/s, every byte checked)",
      value: (r) => figure(r, "large1g", "large", "read")?.mbPerSec ?? undefined,
      unit: " MB/s",
      limits: sends,
    },
    {
      label: "master peak RSS during the 1 GiB PUT, after the workloads above (MiB)",
      value: (r) => r.runs.large1g?.rss?.peakMiB,
      unit: " MiB",
      fmt: (v) => v.toFixed(1),
      limits: () => [],
    },
    {
      label: "master peak RSS, 1 GiB PUT to a fresh master (`npm run bench:rss`, MiB)",
      value: (r) => freshRss[r.target],
      unit: " MiB",
      fmt: (v) => v.toFixed(1),
      limits: () => [],
      goal: () => ({ text: "< 100 MiB", met: (v) => v < 100 }),
    },
  ];
}

/** Issue 10: the Node master's redirects and misses ≥ 0.7× the bare Hono ceiling of the same run. */
export function honoGoals(l: Limits): { label: string; value: (r: TargetResult) => number | undefined; ceiling: number }[] {
  return [
    { label: "redirect GETs/s under Node ≥ 0.7× bare Hono", value: (r) => figure(r, "redirect", "redirect", "get 302")?.opsPerSec, ceiling: l.hono.redirect },
    { label: "missing-key GETs/s under Node ≥ 0.7× bare Hono", value: (r) => figure(r, "missing", "missing", "get 404")?.opsPerSec, ceiling: l.hono.missing },
  ];
}

/** minikeyvalue's figure a kvdb figure of `row` is compared with. */
export function peerFigure(row: Row, peer: TargetResult | undefined): number | undefined {
  return peer && (row.peerValue ?? row.value)(peer);
}

export { int };
