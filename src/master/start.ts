/** Starts a master: opens the index, checks the volumes, recovers, then serves. */
import { announce, warnNoSecret } from "../observe/log.ts";
import { logger } from "../observe/logger.ts";
import { runtime } from "../runtime/mod.ts";
import { urlOf, type Running } from "../http/running.ts";
import { masterApp } from "./app.ts";
import { KeyLocks } from "./locks.ts";
import { DEFAULT_BUSY_WAIT_MS } from "./in-flight.ts";
import { finishAbandoned, startJanitor } from "./janitor.ts";
import type { Master } from "./master.ts";
import { openIndex } from "./index/open.ts";
import { rebalance } from "./jobs/rebalance.ts";
import { logged } from "./jobs/job-log.ts";
import { JobRegistry } from "./jobs/registry.ts";
import { verify } from "./jobs/verify.ts";
import { VolumeClient } from "./volume-client.ts";
import { registerMasterMetrics } from "./status/metrics.ts";
import { newMasterStats } from "./status/stats.ts";
import { VolumeSet } from "./volumes.ts";
import { startS3 } from "../s3/start.ts";

export interface MasterOptions {
  volumes: string[];
  /** A directory (LevelDB) or postgres://… (shared by several masters). */
  db: string;
  /** With PostgreSQL: seconds this master's lease lasts unrenewed (pg-lease.ts); default 10. */
  leaseSeconds?: number;
  port: number;
  hostname: string;
  replicas: number;
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
  /** Largest value accepted, in bytes: 413 beyond it. Default: no limit. */
  maxSize?: number;
  /** See ServeOptions.idleTimeoutMs; default 60 s. */
  idleTimeoutMs?: number;
  /** Serve the S3 API too (src/s3/), on its own port; `show`: print the secret key on the start line (it was generated). */
  s3?: { port: number; accessKey: string; secretKey: string; uploadTtlMs?: number; keepAliveMs?: number; show?: boolean };
}

const log = logger("master");

export async function startMaster(o: MasterOptions): Promise<Running> {
  const index = await openIndex(o.db, { leaseSeconds: o.leaseSeconds });
  const client = new VolumeClient(o.secret, o.timeoutMs, o.urlTtl);
  const volumes = new VolumeSet(o.volumes, client);
  await volumes.check(); // weights and health known before the first placement
  volumes.start();
  const jobs = new JobRegistry(index, { rebalance: logged((job) => rebalance(m, job)), verify: logged((job) => verify(m, job)) });
  const stats = newMasterStats(index);
  const m: Master = { index, volumes, client, replicas: o.replicas, locks: new KeyLocks(), busyWaitMs: o.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS, jobs, proxy: o.proxy, maxSize: o.maxSize, secret: o.secret, stats };
  registerMasterMetrics(m);
  const recovered = await finishAbandoned(m);
  if (recovered) log.info(`cleaned up ${recovered} operation(s) a stop interrupted`, { operations: recovered });
  const stopJanitor = startJanitor(m);
  stats.traffic.start();
  const { app, direct } = masterApp(m, o.verbose);
  const listener = await runtime.serve(app, { ...o, direct });
  const url = urlOf(o.hostname, listener.port);
  const s3 = o.s3 && (await startS3(m, { ...o.s3, hostname: o.hostname, verbose: o.verbose, idleTimeoutMs: o.idleTimeoutMs }));
  if (!o.secret) warnNoSecret("master"); // before the start line, which callers wait for
  const s3Fields = s3 ? { s3: s3.url, "s3-access-key": o.s3!.accessKey, ...(o.s3!.show ? { "s3-secret-key": o.s3!.secretKey } : {}) } : {};
  announce("master", { url, db: index.location, volumes: o.volumes.join(","), replicas: o.replicas, ...s3Fields, runtime: runtime.name });
  const down = volumes.all.filter((v) => !v.up).map((v) => v.name);
  if (down.length) log.warn(`volumes not answering yet: ${down.join(",")}`, { volumes: down.join(",") });
  return {
    url,
    port: listener.port,
    s3: s3?.url,
    async close() {
      await s3?.close();
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
