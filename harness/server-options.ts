/**
 * The one options type of the servers tests and benchmarks start (harness/servers.ts,
 * harness/cluster.ts), and what it becomes: the options of startVolume/startMaster for a
 * server in this process, or the flags of `kvdb volume`/`kvdb master` for a process.
 */
import type { MasterCommandOptions } from "../src/server.ts";
import type { VolumeOptions } from "../src/volume/start.ts";
import { HOST, RUNTIMES } from "./kvdb.ts";

/** Where a server runs: in this process (fast), or as a `kvdb` process under a runtime (to kill, to freeze). */
export type Runtime = "in-process" | keyof typeof RUNTIMES;

/** The S3 credentials of test clusters. */
export const S3_KEYS = { accessKey: "KVDBTESTACCESSKEY", secretKey: "kvdb-test-secret-key/with+signs" };

export interface ServerOptions {
  /** Default: in-process. */
  runtime?: Runtime;
  /** The address to listen on; default HOST (loopback). */
  host?: string;
  /** Shared by master and volumes (--secret). */
  secret?: string;
  /** Volumes refuse unsigned reads (--private). */
  private?: boolean;
  /** Largest value accepted, master and volumes alike (--max-size). */
  maxSize?: number;
  /** For masters and volumes alike (--idle-timeout). */
  idleTimeoutMs?: number;
  /** The volumes' inline threshold (--inline-max; 0: every value a file). */
  inlineMax?: number;
  /** The volumes' capacity cap (--max-bytes). */
  maxBytes?: number;
  /** Copies of each value; default min(3, volumes). */
  replicas?: number;
  /** Replicas a write needs (--min-replicas); default: replicas. */
  minReplicas?: number;
  /** The master streams GET bodies (--proxy). */
  proxy?: boolean;
  /** Seconds a signed URL stays good (--url-ttl). */
  urlTtl?: number;
  /** The master's volume timeout (--volume-timeout). */
  timeoutMs?: number;
  /** How long a write waits for another operation on its key (--busy-wait). */
  busyWaitMs?: number;
  /** The master's --direct-threshold (default: its own; null: off). */
  directThreshold?: number | null;
  /** With PostgreSQL: the master's lease (--lease). */
  leaseSeconds?: number;
  /** /_kvdb/metrics open without a key (--metrics-public). */
  metricsPublic?: boolean;
  /** Serve S3 too, on a free port, with S3_KEYS; its URL is the master's `s3`. */
  s3?: boolean;
  /** See MasterCommandOptions.s3.uploadTtlMs (--s3-upload-ttl). */
  s3UploadTtlMs?: number;
  /** See MasterCommandOptions.s3.keepAliveMs (KVDB_S3_KEEPALIVE_MS). */
  s3KeepAliveMs?: number;
  /** See MasterCommandOptions.s3.lifecycleDayMs (KVDB_LIFECYCLE_DAY_MS). */
  s3LifecycleDayMs?: number;
  /**
   * Processes only (the CAs a process trusts are the whole process's): master and volumes
   * serve TLS with this certificate and trust `ca` in their calls (--tls-cert, --tls-key,
   * --tls-ca); the master's --volumes name them https://.
   */
  tls?: { cert: string; key: string; ca: string };
  /** Processes only: flags no option above names. */
  masterArgs?: string[];
  volumeArgs?: string[];
  /** Processes only: more environment (harness/children.ts drops the caller's KVDB_* settings). */
  env?: Record<string, string>;
  /** Processes only: how long a start may take (default 15 s). */
  readyTimeoutMs?: number;
}

/** A duration as the whole seconds a flag takes. */
function seconds(name: string, ms: number): string {
  if (ms % 1000) throw new Error(`${name}: a kvdb process takes whole seconds (got ${ms} ms)`);
  return String(ms / 1000);
}

/** `[flag, value]` for each option given; bare flags for true booleans. */
function flags(pairs: [string, string | number | boolean | undefined][]): string[] {
  return pairs.flatMap(([flag, v]) => (v === undefined || v === false ? [] : v === true ? [flag] : [flag, String(v)]));
}

function refuseArgs(o: ServerOptions): void {
  if (o.masterArgs?.length || o.volumeArgs?.length) throw new Error("a server in this process takes options, not flags (masterArgs, volumeArgs)");
  if (o.tls) throw new Error("TLS takes server processes (ServerOptions.runtime): what a process trusts is the whole process's");
}

/** The TLS flags, master and volumes alike. */
const tlsFlags = (o: ServerOptions): [string, string | undefined][] => [
  ["--tls-cert", o.tls?.cert],
  ["--tls-key", o.tls?.key],
  ["--tls-ca", o.tls?.ca],
];

export function volumeOptions(o: ServerOptions, dir: string, port: number): VolumeOptions {
  refuseArgs(o);
  const { secret, maxSize, idleTimeoutMs, inlineMax, maxBytes } = o;
  return { dir, port, hostname: o.host ?? HOST, verbose: false, secret, private: o.private, maxSize, idleTimeoutMs, inlineMax, maxBytes };
}

export function volumeFlags(o: ServerOptions, dir: string, port: number): string[] {
  return [
    "volume",
    dir,
    ...flags([
      ["--port", port],
      ["--host", o.host ?? HOST],
      ["--secret", o.secret],
      ["--private", o.private],
      ["--max-size", o.maxSize],
      ["--idle-timeout", o.idleTimeoutMs === undefined ? undefined : seconds("idleTimeoutMs", o.idleTimeoutMs)],
      ["--inline-max", o.inlineMax],
      ["--max-bytes", o.maxBytes],
      ...tlsFlags(o),
    ]),
    ...(o.volumeArgs ?? []),
  ];
}

const replicasOf = (o: ServerOptions, volumes: string[]) => o.replicas ?? Math.min(3, volumes.length);

export function masterOptions(o: ServerOptions, volumes: string[], db: string, port: number): MasterCommandOptions {
  refuseArgs(o);
  const { secret, urlTtl, maxSize, idleTimeoutMs, timeoutMs, busyWaitMs, directThreshold, leaseSeconds, metricsPublic } = o;
  const s3 = o.s3 ? { port: 0, ...S3_KEYS, uploadTtlMs: o.s3UploadTtlMs, keepAliveMs: o.s3KeepAliveMs, lifecycleDayMs: o.s3LifecycleDayMs } : undefined;
  return { volumes, db, port, hostname: o.host ?? HOST, replicas: replicasOf(o, volumes), minReplicas: o.minReplicas, proxy: o.proxy ?? false, verbose: false, secret, urlTtl, maxSize, idleTimeoutMs, timeoutMs, busyWaitMs, directThreshold, leaseSeconds, metricsPublic, s3 };
}

export function masterFlags(o: ServerOptions, volumes: string[], db: string, port: number): string[] {
  const ms = (name: string, v: number | undefined) => (v === undefined ? undefined : seconds(name, v));
  const s3 = o.s3 ? { port: 0, key: S3_KEYS.accessKey, secret: S3_KEYS.secretKey } : undefined;
  return [
    "master",
    ...flags([
      ["--volumes", volumes.join(",")],
      ["--db", db],
      ["--port", port],
      ["--host", o.host ?? HOST],
      ["--replicas", replicasOf(o, volumes)],
      ["--min-replicas", o.minReplicas],
      ["--proxy", o.proxy],
      ["--secret", o.secret],
      ["--url-ttl", o.urlTtl],
      ["--max-size", o.maxSize],
      ["--idle-timeout", ms("idleTimeoutMs", o.idleTimeoutMs)],
      ["--volume-timeout", ms("timeoutMs", o.timeoutMs)],
      ["--busy-wait", ms("busyWaitMs", o.busyWaitMs)],
      ["--direct-threshold", o.directThreshold === null ? "off" : o.directThreshold],
      ["--lease", o.leaseSeconds],
      ["--metrics-public", o.metricsPublic],
      ["--s3-port", s3?.port],
      ["--s3-access-key", s3?.key],
      ["--s3-secret-key", s3?.secret],
      ["--s3-upload-ttl", ms("s3UploadTtlMs", o.s3UploadTtlMs)],
      ...tlsFlags(o),
    ]),
    ...(o.masterArgs ?? []),
  ];
}

/** A master process's environment: ServerOptions.env, and what it reads from there only. */
export function masterEnv(o: ServerOptions): Record<string, string> {
  return {
    ...o.env,
    ...(o.s3KeepAliveMs === undefined ? {} : { KVDB_S3_KEEPALIVE_MS: String(o.s3KeepAliveMs) }),
    ...(o.s3LifecycleDayMs === undefined ? {} : { KVDB_LIFECYCLE_DAY_MS: String(o.s3LifecycleDayMs) }),
  };
}
