/**
 * `kvdb bench` options: each from its flag, else its env var, else its default.
 * A bad value throws the caller's usage error (mod.ts: one line on stderr, exit 2).
 */
import { isLoopbackHost } from "./loopback.ts";
import { formatSize, parseSize } from "../size.ts";

export const WORKLOADS = ["thrash", "redirect", "missing", "large"] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface BenchOptions {
  master: URL;
  workloads: WorkloadName[];
  concurrency: number;
  /** Value size of the thrash cycles. */
  size: number;
  /** Most operations per workload (cycles for thrash). */
  count: number;
  /** Most seconds per workload: no operation starts after this. */
  seconds: number;
  /** Value size of the large workload. */
  largeSize: number;
  allowRemote: boolean;
  json: boolean;
}

/** What cac hands the action (flags, camel-cased). */
export interface BenchFlags {
  master?: unknown;
  workload?: unknown;
  concurrency?: unknown;
  size?: unknown;
  count?: unknown;
  seconds?: unknown;
  largeSize?: unknown;
  allowRemote?: unknown;
  json?: unknown;
}

export const DEFAULTS = {
  master: "http://localhost:3000",
  workload: WORKLOADS.join(","),
  concurrency: 16,
  size: "1KiB",
  count: 1_000_000,
  seconds: 10,
  largeSize: "256MiB",
} as const;

type UsageErrorClass = new (message: string) => Error;
type Env = Record<string, string | undefined>;

/** The first given value: a flag, then an env var, then the default. Repeated flags are refused. */
function pick(name: string, flagValue: unknown, envValue: string | undefined, fallback: string | number, Usage: UsageErrorClass): string {
  if (Array.isArray(flagValue)) throw new Usage(`--${name} must be given once`);
  if (flagValue === true || flagValue === "") throw new Usage(`--${name} needs a value`);
  if (flagValue !== undefined && flagValue !== false) return String(flagValue);
  if (envValue !== undefined && envValue !== "") return envValue;
  return String(fallback);
}

function flag(value: unknown, envValue: string | undefined): boolean {
  return value === true || (value === undefined && envValue !== undefined && !/^(0|false|no)?$/i.test(envValue));
}

function integer(name: string, s: string, min: number, max: number, Usage: UsageErrorClass): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Usage(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(s)})`);
  }
  return n;
}

function size(name: string, s: string, min: number, max: number, Usage: UsageErrorClass): number {
  const n = parseSize(s);
  if (n === undefined) throw new Usage(`--${name} must be a size like 1KiB, 4MiB or 1GiB (got ${JSON.stringify(s)})`);
  if (n < min || n > max) throw new Usage(`--${name} must be from ${formatSize(min)} to ${formatSize(max)} (got ${JSON.stringify(s)})`);
  return n;
}

export function benchOptions(o: BenchFlags, env: Env, Usage: UsageErrorClass): BenchOptions {
  const masterText = pick("master", o.master, env.KVDB_MASTER, DEFAULTS.master, Usage);
  let master: URL;
  try {
    master = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(masterText) ? masterText : `http://${masterText}`);
  } catch {
    throw new Usage(`--master must be a URL like http://localhost:3000 (got ${JSON.stringify(masterText)})`);
  }
  if (master.protocol !== "http:") throw new Usage(`--master: only http:// is supported (got ${JSON.stringify(masterText)})`);
  const allowRemote = flag(o.allowRemote, env.KVDB_ALLOW_REMOTE);
  if (!allowRemote && !isLoopbackHost(master.hostname)) {
    throw new Usage(`--master ${master.host} is not this machine: bench sends heavy load; add --allow-remote if you mean it`);
  }

  const listed = pick("workload", o.workload, env.KVDB_BENCH_WORKLOAD, DEFAULTS.workload, Usage)
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  const unknown = listed.find((w) => w !== "all" && !(WORKLOADS as readonly string[]).includes(w));
  if (unknown !== undefined || !listed.length) {
    throw new Usage(`--workload must list some of ${WORKLOADS.join(",")} or all (got ${JSON.stringify(unknown ?? "")})`);
  }
  const workloads = WORKLOADS.filter((w) => listed.includes(w) || listed.includes("all"));

  const seconds = Number(pick("seconds", o.seconds, env.KVDB_BENCH_SECONDS, DEFAULTS.seconds, Usage));
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new Usage(`--seconds must be a number of seconds above 0 and at most 3600 (got ${JSON.stringify(o.seconds ?? env.KVDB_BENCH_SECONDS)})`);
  }

  return {
    master,
    workloads,
    concurrency: integer("concurrency", pick("concurrency", o.concurrency, env.KVDB_BENCH_CONCURRENCY, DEFAULTS.concurrency, Usage), 1, 1024, Usage),
    size: size("size", pick("size", o.size, env.KVDB_BENCH_SIZE, DEFAULTS.size, Usage), 1, 2 ** 30, Usage),
    count: integer("count", pick("count", o.count, env.KVDB_BENCH_COUNT, DEFAULTS.count, Usage), 1, 1e9, Usage),
    seconds,
    largeSize: size("large-size", pick("large-size", o.largeSize, env.KVDB_BENCH_LARGE_SIZE, DEFAULTS.largeSize, Usage), 1, 2 ** 40, Usage),
    allowRemote,
    json: flag(o.json, env.KVDB_BENCH_JSON),
  };
}
