/**
 * What the status page, GET /_kvdb/status.json and `kvdb status` show: can a write get
 * its replicas now, each volume, capacity, replication health, traffic, jobs, config.
 */
import { runtime } from "../../runtime/mod.ts";
import { VERSION } from "../../version.ts";
import { snapshot, type Job, type JobKind } from "../jobs/job.ts";
import type { Master } from "../master.ts";
import type { Counts } from "./census.ts";
import type { Traffic } from "./traffic.ts";

export type HealthState = "ok" | "degraded" | "failing";

export interface VolumeFacts {
  name: string;
  zone: string;
  up: boolean;
  error: string;
  /** When it last answered (ms since the epoch), null if never; how long its health check took. */
  lastAnswer: number | null;
  latencyMs: number;
  free: number;
  total: number;
  keys: number;
  runtime: string;
  version: string;
}

export interface StatusFacts {
  health: { state: HealthState; writable: boolean; message: string };
  volumes: VolumeFacts[];
  capacity: { free: number; total: number; volumesUp: number; volumes: number; zones: number };
  replication: {
    keys: Counts["keys"];
    /** Replicas owed a delete. */
    owedDelete: number;
    /** Keys owed replicas (--min-replicas): the janitor copies them once a volume can take them. */
    underReplicated: number;
    /** Writes and deletes in flight or left by a stop. */
    pending: number;
    countedAt: number;
    lastVerify: Job | null;
    lastRebalance: Job | null;
    /** S3's lifecycle rules' latest run (src/s3/lifecycle-run.ts). */
    lastLifecycle: Job | null;
  };
  traffic: Traffic;
  jobs: Job[];
  config: { replicas: number; minReplicas: number; secret: boolean; proxy: boolean; version: string; runtime: string; started: number; uptimeSeconds: number };
}

function health(m: Master, volumes: VolumeFacts[], counts: Counts): StatusFacts["health"] {
  const up = volumes.filter((v) => v.up);
  const roomy = up.filter((v) => v.free > 0);
  const down = volumes.filter((v) => !v.up);
  const writable = roomy.length >= m.minReplicas;
  if (!writable) {
    const why = up.length < m.minReplicas ? `${up.length} of ${volumes.length} volumes up` : `${roomy.length} volumes up have room`;
    return { state: "failing", writable, message: `writes fail: ${why}, ${m.minReplicas} replicas needed` };
  }
  const worries = [
    ...(down.length ? [`${down.length} of ${volumes.length} volumes down (${down.map((v) => v.name).join(", ")})`] : []),
    ...(up.length > roomy.length ? [`${up.length - roomy.length} volumes full`] : []),
    ...(counts.orphans ? [`${counts.orphans} replicas owed a delete`] : []),
    ...(counts.underReplicated ? [`${counts.underReplicated} keys owed replicas`] : []),
  ];
  const ok = roomy.length >= m.replicas ? `writes get their ${m.replicas} replicas` : `writes get ${roomy.length} of their ${m.replicas} replicas, the rest owed`;
  return worries.length ? { state: "degraded", writable, message: `${ok}; ${worries.join("; ")}` } : { state: "ok", writable, message: `${ok}; all volumes up` };
}

function latest(all: Job[], kind: JobKind): Job | null {
  const jobs = all.filter((j) => j.kind === kind);
  return jobs.length ? snapshot(jobs[jobs.length - 1]) : null;
}

export async function statusFacts(m: Master): Promise<StatusFacts> {
  const jobs = await m.jobs.all();
  const counts = await m.stats.census.counts();
  const volumes: VolumeFacts[] = m.volumes.all.map((v) => ({
    name: v.name,
    zone: v.zone,
    up: v.up,
    error: v.error,
    lastAnswer: v.lastAnswer || null,
    latencyMs: v.latencyMs,
    free: v.free,
    total: v.total,
    keys: v.count,
    runtime: v.runtime,
    version: v.version,
  }));
  const up = volumes.filter((v) => v.up);
  return {
    health: health(m, volumes, counts),
    volumes,
    capacity: {
      free: up.reduce((n, v) => n + v.free, 0),
      total: up.reduce((n, v) => n + v.total, 0),
      volumesUp: up.length,
      volumes: volumes.length,
      zones: new Set(volumes.map((v) => v.zone)).size,
    },
    replication: {
      keys: counts.keys,
      owedDelete: counts.orphans,
      underReplicated: counts.underReplicated,
      pending: counts.pending,
      countedAt: counts.at,
      lastVerify: latest(jobs, "verify"),
      lastRebalance: latest(jobs, "rebalance"),
      lastLifecycle: latest(jobs, "lifecycle"),
    },
    traffic: m.stats.traffic.traffic(),
    jobs: jobs.filter((j) => j.state === "running").map(snapshot),
    config: {
      replicas: m.replicas,
      minReplicas: m.minReplicas,
      secret: m.secret !== undefined,
      proxy: m.proxy,
      version: VERSION,
      runtime: runtime.name,
      started: m.stats.started,
      uptimeSeconds: Math.round((Date.now() - m.stats.started) / 1000),
    },
  };
}
