/**
 * `kvdb bench` options: each from its flag, else its env var, else its default.
 * A bad value throws a UsageError (mod.ts: one line on stderr, exit 2).
 */
import { flag, UsageError } from "../cli/options.ts";
import { isLoopbackHost } from "./loopback.ts";
import { formatSize, parseSize } from "../cli/size.ts";

const WORKLOADS = ["thrash", "redirect", "missing", "large"] as const;
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
  /**
   * PUTs of bodies longer than this send `Expect: 100-continue` and send the body only
   * after `100 Continue`, following a 307/308 as `curl -L -T` does (a kvdb master
   * answers a large one with a direct write's 307); undefined: never.
   */
  expectOver?: number;
  allowRemote: boolean;
  json: boolean;
  /** A key's token (ID.SECRET), sent as `Authorization: Bearer` to the master only, as curl -L sends it. */
  token?: string;
  /**
   * Keys already stored, `prefix` + 0 … count − 1, each holding the bench's value of
   * `size` bytes for its key (bench/scale-fill.ts writes them): redirect reads random ones
   * instead of storing 256 of its own, and missing asks for keys between them.
   */
  existing?: { prefix: string; count: number };
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
  expectOver?: unknown;
  allowRemote?: unknown;
  json?: unknown;
  token?: unknown;
  existingKeys?: unknown;
}

export const DEFAULTS = {
  master: "http://localhost:3000",
  workload: WORKLOADS.join(","),
  concurrency: 16,
  size: "1KiB",
  count: 1_000_000,
  seconds: 10,
  largeSize: "256MiB",
  // curl 7.88 (Debian 12's) sends Expect with every -T upload, curl 8 over 1 MiB; 1 KiB keeps
  // the thrash's 1 KiB values without it.
  expectOver: "1KiB",
} as const;

type Env = Record<string, string | undefined>;

/** The first given value: a flag, then an env var, then the default. Repeated flags are refused. */
function pick(name: string, flagValue: unknown, envValue: string | undefined, fallback: string | number): string {
  if (Array.isArray(flagValue)) throw new UsageError(`--${name} must be given once`);
  if (flagValue === true || flagValue === "") throw new UsageError(`--${name} needs a value`);
  if (flagValue !== undefined && flagValue !== false) return String(flagValue);
  if (envValue !== undefined && envValue !== "") return envValue;
  return String(fallback);
}

function integer(name: string, s: string, min: number, max: number): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(s)})`);
  }
  return n;
}

function size(name: string, s: string, min: number, max: number): number {
  const n = parseSize(s);
  if (n === undefined) throw new UsageError(`--${name} must be a size like 1KiB, 4MiB or 1GiB (got ${JSON.stringify(s)})`);
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${formatSize(min)} to ${formatSize(max)} (got ${JSON.stringify(s)})`);
  return n;
}

/** "PREFIX:N" → keys PREFIX0 … PREFIX(N−1); the prefix must be a key's start ("/…"). */
function existingKeys(s: string): { prefix: string; count: number } | undefined {
  if (s === "") return undefined;
  const colon = s.lastIndexOf(":");
  const prefix = s.slice(0, colon);
  if (colon < 0 || !prefix.startsWith("/")) throw new UsageError(`--existing-keys must be PREFIX:N, like /scale/:1000000 (got ${JSON.stringify(s)})`);
  return { prefix, count: integer("existing-keys", s.slice(colon + 1), 1, 1e12) };
}

/** --expect-over: a size, or "off" for never. */
function expectOver(s: string): number | undefined {
  return s === "off" ? undefined : size("expect-over", s, 0, 2 ** 40);
}

export function benchOptions(o: BenchFlags, env: Env): BenchOptions {
  const masterText = pick("master", o.master, env.KVDB_MASTER, DEFAULTS.master);
  let master: URL;
  try {
    master = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(masterText) ? masterText : `http://${masterText}`);
  } catch {
    throw new UsageError(`--master must be a URL like http://localhost:3000 (got ${JSON.stringify(masterText)})`);
  }
  if (master.protocol !== "http:" && master.protocol !== "https:") throw new UsageError(`--master: only http:// or https:// (got ${JSON.stringify(masterText)})`);
  const allowRemote = flag(o.allowRemote, env.KVDB_ALLOW_REMOTE);
  if (!allowRemote && !isLoopbackHost(master.hostname)) {
    throw new UsageError(`--master ${master.host} is not this machine: bench sends heavy load; add --allow-remote if you mean it`);
  }

  const listed = pick("workload", o.workload, env.KVDB_BENCH_WORKLOAD, DEFAULTS.workload)
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  const unknown = listed.find((w) => w !== "all" && !(WORKLOADS as readonly string[]).includes(w));
  if (unknown !== undefined || !listed.length) {
    throw new UsageError(`--workload must list some of ${WORKLOADS.join(",")} or all (got ${JSON.stringify(unknown ?? "")})`);
  }
  const workloads = WORKLOADS.filter((w) => listed.includes(w) || listed.includes("all"));

  const seconds = Number(pick("seconds", o.seconds, env.KVDB_BENCH_SECONDS, DEFAULTS.seconds));
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new UsageError(`--seconds must be a number of seconds above 0 and at most 3600 (got ${JSON.stringify(o.seconds ?? env.KVDB_BENCH_SECONDS)})`);
  }

  return {
    master,
    workloads,
    concurrency: integer("concurrency", pick("concurrency", o.concurrency, env.KVDB_BENCH_CONCURRENCY, DEFAULTS.concurrency), 1, 1024),
    size: size("size", pick("size", o.size, env.KVDB_BENCH_SIZE, DEFAULTS.size), 1, 2 ** 30),
    count: integer("count", pick("count", o.count, env.KVDB_BENCH_COUNT, DEFAULTS.count), 1, 1e9),
    seconds,
    largeSize: size("large-size", pick("large-size", o.largeSize, env.KVDB_BENCH_LARGE_SIZE, DEFAULTS.largeSize), 1, 2 ** 40),
    expectOver: expectOver(pick("expect-over", o.expectOver, env.KVDB_BENCH_EXPECT_OVER, DEFAULTS.expectOver)),
    allowRemote,
    json: flag(o.json, env.KVDB_BENCH_JSON),
    token: pick("token", o.token, env.KVDB_TOKEN, "") || undefined,
    existing: existingKeys(pick("existing-keys", o.existingKeys, env.KVDB_BENCH_EXISTING_KEYS, "")),
  };
}
