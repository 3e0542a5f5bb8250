/**
 * A master: built from its options (buildMaster: the index opened, the volume client,
 * the volumes, jobs and stats, nothing checked or served yet), then started
 * (serveMaster: the volumes checked, what a stop interrupted finished, the janitor
 * started, the API served). The start line is the composition root's (src/server.ts),
 * which may put the S3 API on top first.
 */
import { refuseExposed, type Anonymous } from "../auth/exposure.ts";
import { Access, type SignedCheck } from "../auth/access.ts";
import { predatesSafeDefault } from "../auth/upgrade.ts";
import { KeyStore } from "../auth/key-store.ts";
import { logger } from "../observe/logger.ts";
import { runtime } from "../runtime/mod.ts";
import type { TlsFiles } from "../runtime/tls.ts";
import { urlOf, type Running } from "../http/running.ts";
import { masterApp } from "./app.ts";
import { KeyLocks } from "./locks.ts";
import { DEFAULT_BUSY_WAIT_MS } from "./in-flight.ts";
import { finishAbandoned, startJanitor } from "./janitor.ts";
import { DIRECT_THRESHOLD } from "./direct-terms.ts";
import type { Master } from "./master.ts";
import { openIndex } from "./index/open.ts";
import { rebalance } from "./jobs/rebalance.ts";
import { logged } from "./jobs/job-log.ts";
import { JobRegistry } from "./jobs/registry.ts";
import { verify } from "./jobs/verify.ts";
import { VolumeClient } from "./volume-client.ts";
import { registerMasterMetrics } from "./status/metrics.ts";
import { newMasterStats } from "./status/stats.ts";
import { secureVolumes, VolumeSet } from "./volumes.ts";

export interface MasterOptions {
  volumes: string[];
  /** A directory (LevelDB) or postgres://… (shared by several masters). */
  db: string;
  /** With PostgreSQL: seconds this master's lease lasts unrenewed (pg-lease.ts); default 10. */
  leaseSeconds?: number;
  port: number;
  hostname: string;
  /** What clients without a key may do; beyond loopback a master without it refuses to start (auth/exposure.ts). */
  allowAnonymous?: Anonymous;
  /** /_kvdb/metrics needs no key even with authentication on (--metrics-public): for Prometheus. */
  metricsPublic?: boolean;
  /** How SigV4-signed requests are checked (src/server.ts gives S3's verifier); absent: refused. */
  sigv4?: SignedCheck;
  replicas: number;
  /** See Master.minReplicas; default `replicas`. */
  minReplicas?: number;
  proxy: boolean;
  verbose: boolean;
  /** See Master.busyWaitMs; default in-flight.ts's DEFAULT_BUSY_WAIT_MS. */
  busyWaitMs?: number;
  /** See Master.timeoutMs; default 30 s. */
  timeoutMs?: number;
  /** Shared with the volumes: signs every volume URL. */
  secret?: string;
  /** How long signed URLs (redirects included) stay good, in seconds; default 60. */
  urlTtl?: number;
  /** See Master.directThreshold; default DIRECT_THRESHOLD; null: no direct writes. */
  directThreshold?: number | null;
  /** Largest value accepted, in bytes: 413 beyond it. Default: no limit. */
  maxSize?: number;
  /** See ServeOptions.idleTimeoutMs; default 60 s. */
  idleTimeoutMs?: number;
  /** Serve HTTPS (the curl API, and S3 when asked) with this certificate; see ServeOptions.tls. */
  tls?: TlsFiles;
}

/** What buildMaster needs: the options less those of serving. */
export type MasterParts = Omit<MasterOptions, "port" | "hostname" | "verbose" | "idleTimeoutMs" | "allowAnonymous" | "metricsPublic" | "sigv4" | "tls">;

/** A master serving its API. */
export interface StartedMaster extends Running {
  master: Master;
}

const log = logger("master");

/** A master's parts, the index opened; the volumes are neither checked nor watched yet (all down until checked). */
export async function buildMaster(o: MasterParts): Promise<Master> {
  const index = await openIndex(o.db, { leaseSeconds: o.leaseSeconds });
  const client = new VolumeClient(o.secret, o.timeoutMs, o.urlTtl, secureVolumes(o.volumes));
  const volumes = new VolumeSet(o.volumes, client);
  const jobs = new JobRegistry(index, { rebalance: logged((job) => rebalance(m, job)), verify: logged((job) => verify(m, job)) });
  const stats = newMasterStats(index);
  const m: Master = { index, volumes, client, replicas: o.replicas, minReplicas: o.minReplicas ?? o.replicas, locks: new KeyLocks(), busyWaitMs: o.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS, jobs, proxy: o.proxy, directThreshold: o.directThreshold === null ? undefined : (o.directThreshold ?? DIRECT_THRESHOLD), maxSize: o.maxSize, secret: o.secret, stats };
  return m;
}

/** Builds a master, checks its volumes, recovers, then serves (no start line: src/server.ts prints it). */
export async function serveMaster(o: MasterOptions): Promise<StartedMaster> {
  const m = await buildMaster(o);
  const { index, volumes, stats } = m;
  const keys = new KeyStore(index.tables);
  let access: Access;
  try {
    // Authentication is on once the index holds a key (kvdb keys create), from start or later (auth/access.ts).
    const on = await keys.any();
    access = new Access(keys, on, o.allowAnonymous, stats.authFailures, o.sigv4);
    // After the index opened, whose errors come first.
    const warning = refuseExposed(o.hostname, o.allowAnonymous, on, await predatesSafeDefault(index));
    if (warning) log.warn(warning);
  } catch (e) {
    await index.close();
    throw e;
  }
  await volumes.check(); // weights and health known before the first placement
  volumes.start();
  registerMasterMetrics(m);
  const recovered = await finishAbandoned(m);
  if (recovered) log.info(`cleaned up ${recovered} operation(s) a stop interrupted`, { operations: recovered });
  const stopJanitor = startJanitor(m);
  stats.traffic.start();
  const { app, direct, counter } = masterApp(m, o.verbose, access, o.metricsPublic);
  const listener = await runtime.serve(app, { ...o, direct, counter });
  return {
    master: m,
    url: urlOf(o.hostname, listener.port, !!o.tls),
    port: listener.port,
    async close() {
      await listener.close();
      // A handler may still be cleaning up after a client that hung up: let it finish.
      await m.locks.idle(10_000);
      stopJanitor();
      stats.traffic.stop();
      volumes.stop();
      await index.close();
    },
  };
}
