/**
 * Reading command-line options: each from its flag, else its environment variable,
 * else its default. A bad value is a UsageError: one line on stderr, exit 2.
 */
import process from "node:process";
import { LOG_FORMATS, type LogFormat } from "../observe/logger.ts";
import { parseVolumeSpec } from "../keys/zones.ts";
import { indexKind } from "../master/index/open.ts";
import { parseSize } from "./size.ts";
import { ANONYMOUS_LEVELS, type Anonymous } from "../auth/exposure.ts";
import { trustCa, type TlsFiles } from "../runtime/tls.ts";

const env = process.env;

/** A usage error: one line on stderr, exit 2, never a stack trace. */
export class UsageError extends Error {}

export function integer(name: string, value: unknown, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || value === "" || value === true || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

export function text(name: string, ...candidates: unknown[]): string {
  const v = candidates.find((c) => c !== undefined && c !== "");
  if (v === undefined) throw new UsageError(`${name} is required`);
  if (typeof v !== "string" && typeof v !== "number") throw new UsageError(`${name} must be given once, as text`);
  return String(v);
}

export function flag(value: unknown, envValue: string | undefined): boolean {
  return value === true || (value === undefined && envValue !== undefined && !/^(0|false|no)?$/i.test(envValue));
}

export function secretOf(value: unknown): string | undefined {
  const s = value ?? env.KVDB_SECRET;
  if (s === undefined || s === "") return undefined;
  // cac turns an all-digit value into a number, losing digits: refuse rather than guess.
  if (typeof s !== "string") throw new UsageError("secret must be text (not only digits), given once");
  if (s.length < 16) throw new UsageError("secret must be at least 16 characters");
  return s;
}

/** A size option (1000, 512MiB, 1GiB…) such as --max-size; undefined when not given. */
export function sizeOf(name: string, value: unknown, envValue: string | undefined): number | undefined {
  const v = value ?? envValue;
  if (v === undefined || v === "") return undefined;
  const n = typeof v === "string" || typeof v === "number" ? parseSize(v) : undefined;
  if (n === undefined || n < 1) throw new UsageError(`${name} must be a size such as 1000, 512MiB or 10GiB (got ${JSON.stringify(v)})`);
  return n;
}

/** --direct-threshold (KVDB_DIRECT_THRESHOLD): a size, or null for off; undefined when not given (the master's default). */
export function directThresholdOf(value: unknown): number | null | undefined {
  const v = value ?? env.KVDB_DIRECT_THRESHOLD;
  return v === "off" ? null : sizeOf("direct-threshold", v, undefined);
}

/** The master URL of rebalance/verify: --master, KVDB_MASTER, or the local default. */
export function masterOf(value: unknown): string {
  const m = text("master", value, env.KVDB_MASTER, "http://127.0.0.1:3000");
  if (!/^(https?:\/\/)?[^\s/:]+:\d{1,5}\/?$/.test(m)) throw new UsageError(`master: ${JSON.stringify(m)} is not a URL such as http://127.0.0.1:3000`);
  return m;
}

/** --idle-timeout in ms; it must outlast --volume-timeout, or a PUT paced by a slow volume would be cut. */
export function idleTimeoutOf(value: unknown, volumeTimeoutMs = 0): number {
  const given = value ?? env.KVDB_IDLE_TIMEOUT;
  const ms = 1000 * integer("idle-timeout", given ?? Math.max(60, volumeTimeoutMs / 1000 + 30), 1, 3600);
  if (ms <= volumeTimeoutMs) throw new UsageError("idle-timeout must be longer than volume-timeout");
  return ms;
}


/** Where the index is (--db, KVDB_DB, an argument): a directory, or postgres://…; any other URL is refused. */
export function dbOf(...candidates: unknown[]): string {
  const db = text("db", ...candidates);
  try {
    indexKind(db);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return db;
}

/**
 * A list of volumes (--volumes, KVDB_VOLUMES, an argument): host:port each, or
 * host:port=zone (keys/zones.ts), https:// first for a volume serving TLS, none twice.
 * Returned as given, less http:// and trailing slashes.
 */
export function volumesOf(...candidates: unknown[]): string[] {
  const specs = text("volumes", ...candidates)
    .split(",")
    .filter((s) => s.trim())
    .map((s) => ({ given: s.trim(), ...parseVolumeSpec(s) }));
  if (!specs.length) throw new UsageError("volumes: give at least one host:port");
  if (new Set(specs.map((v) => v.name)).size !== specs.length) throw new UsageError("volumes: a volume is listed twice");
  const bad = specs.find((v) => !/^[^\s/:=]+:\d{1,5}$/.test(v.name));
  if (bad) throw new UsageError(`volumes: ${JSON.stringify(bad.given)} is not host:port or host:port=zone`);
  const badZone = specs.find((v) => !/^[\w.:-]+$/.test(v.zone));
  if (badZone) throw new UsageError(`volumes: zone of ${JSON.stringify(badZone.given)} must be letters, digits, . : _ or -`);
  return specs.map((v) => `${v.secure ? "https://" : ""}${v.name}${v.given.includes("=") ? `=${v.zone}` : ""}`);
}

/** --tls-cert and --tls-key (KVDB_TLS_CERT, KVDB_TLS_KEY): both or neither; undefined for plain HTTP. */
export function tlsOf(o: { tlsCert?: unknown; tlsKey?: unknown }): TlsFiles | undefined {
  const cert = o.tlsCert ?? env.KVDB_TLS_CERT;
  const key = o.tlsKey ?? env.KVDB_TLS_KEY;
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new UsageError("tls: give both --tls-cert and --tls-key (or KVDB_TLS_CERT and KVDB_TLS_KEY)");
  return { cert: text("tls-cert", cert), key: text("tls-key", key) };
}

/** --tls-ca (KVDB_TLS_CA): this process's calls to https:// servers trust its CA certificates too. */
export function trustOf(value: unknown): void {
  const file = value ?? env.KVDB_TLS_CA;
  if (file === undefined || file === "") return;
  try {
    trustCa(text("tls-ca", file));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** --log-format (KVDB_LOG_FORMAT): text or json. */
export function logFormatOf(value: unknown): LogFormat {
  const f = text("log-format", value, env.KVDB_LOG_FORMAT, "text");
  if (!(LOG_FORMATS as readonly string[]).includes(f)) throw new UsageError(`log-format must be ${LOG_FORMATS.join(" or ")} (got ${JSON.stringify(f)})`);
  return f as LogFormat;
}

/** The cac options of a command that runs a master (`master`, `server`). */
export interface MasterFlags {
  host?: unknown;
  proxy?: unknown;
  verbose?: unknown;
  volumeTimeout?: unknown;
  busyWait?: unknown;
  minReplicas?: unknown;
  secret?: unknown;
  urlTtl?: unknown;
  maxSize?: unknown;
  directThreshold?: unknown;
  idleTimeout?: unknown;
  allowAnonymous?: unknown;
  metricsPublic?: unknown;
  tlsCert?: unknown;
  tlsKey?: unknown;
  tlsCa?: unknown;
}

/** --allow-anonymous [all|read|none] (KVDB_ALLOW_ANONYMOUS): bare or 1/true/yes is "all"; undefined when not given. */
export function anonymousOf(value: unknown): Anonymous | undefined {
  const v = value ?? env.KVDB_ALLOW_ANONYMOUS;
  if (v === undefined || v === false || /^(0|false|no)?$/i.test(String(v))) return undefined;
  if (v === true || /^(1|true|yes)$/i.test(String(v))) return "all";
  if ((ANONYMOUS_LEVELS as readonly unknown[]).includes(v)) return v as Anonymous;
  throw new UsageError(`allow-anonymous must be ${ANONYMOUS_LEVELS.join(", ")}, or given bare for all (got ${JSON.stringify(v)})`);
}

/**
 * --replicas N (KVDB_REPLICAS; `fallback` when not given, at most `most`) and
 * --min-replicas W (KVDB_MIN_REPLICAS, 1…N): W defaults to N, so a 201 means every
 * replica is fsynced unless the operator trades that for writes that survive a volume
 * down (docs/DURABILITY.md, "--min-replicas").
 */
export function replicasOf(o: { replicas?: unknown; minReplicas?: unknown }, fallback: number, most: number): { replicas: number; minReplicas: number } {
  const replicas = integer("replicas", o.replicas ?? env.KVDB_REPLICAS ?? fallback, 1, most);
  return { replicas, minReplicas: integer("min-replicas", o.minReplicas ?? env.KVDB_MIN_REPLICAS ?? replicas, 1, replicas) };
}

/** A number of seconds given as an option, in ms; undefined if not given. */
function seconds(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : 1000 * integer(name, value, 0, 3600);
}

/** What `master` and `server` read alike: how the master listens and talks to volumes and clients (--tls-ca trusted). */
export function masterSettings(o: MasterFlags) {
  trustOf(o.tlsCa);
  const timeoutMs = 1000 * integer("volume-timeout", o.volumeTimeout ?? env.KVDB_VOLUME_TIMEOUT ?? 30, 1, 3600);
  return {
    hostname: text("host", o.host, env.KVDB_HOST, "0.0.0.0"),
    allowAnonymous: anonymousOf(o.allowAnonymous),
    metricsPublic: flag(o.metricsPublic, env.KVDB_METRICS_PUBLIC),
    proxy: flag(o.proxy, env.KVDB_PROXY),
    verbose: flag(o.verbose, env.KVDB_VERBOSE),
    timeoutMs,
    busyWaitMs: seconds("busy-wait", o.busyWait ?? env.KVDB_BUSY_WAIT), // undefined: the master's default
    secret: secretOf(o.secret),
    urlTtl: integer("url-ttl", o.urlTtl ?? env.KVDB_URL_TTL ?? 60, 1, 7 * 86400),
    maxSize: sizeOf("max-size", o.maxSize, env.KVDB_MAX_SIZE),
    directThreshold: directThresholdOf(o.directThreshold),
    idleTimeoutMs: idleTimeoutOf(o.idleTimeout, timeoutMs),
    tls: tlsOf(o),
  };
}

/** --inline-max: each inline upload is held in memory up to this size, so it stays small. */
export function inlineMaxOf(value: unknown): number | undefined {
  if (String(value ?? env.KVDB_INLINE_MAX) === "0") return 0; // off: every value a file
  const max = sizeOf("inline-max", value, env.KVDB_INLINE_MAX);
  if (max !== undefined && max > 2 ** 20) throw new UsageError("inline-max must be at most 1MiB (values held in memory while they arrive)");
  return max;
}
