/** What a master keeps for its metrics and status page. */
import { Registry, type Counter } from "../../observe/metrics.ts";
import { requestMetrics, type RequestMetrics } from "../../observe/request-metrics.ts";
import type { Index } from "../index/index.ts";
import { indexSyncedChanges, indexSyncs } from "../index/sync-stats.ts";
import { Census } from "./census.ts";
import { AuthFailures } from "../../auth/failures.ts";
import { TrafficSampler } from "./traffic.ts";

export interface MasterStats {
  registry: Registry;
  requests: RequestMetrics;
  /** Replica uploads that failed, by volume. */
  replicaWriteFailures: Counter;
  /** Requests refused at the curl API's and S3's doors. */
  authFailures: AuthFailures;
  census: Census;
  traffic: TrafficSampler;
  /** When the master started, ms since the epoch. */
  started: number;
}

export function newMasterStats(index: Index): MasterStats {
  const registry = new Registry();
  const requests = requestMetrics(registry);
  registry.add(indexSyncs); // stays 0 under PostgreSQL, which syncs on its own side
  registry.add(indexSyncedChanges);
  return {
    registry,
    requests,
    replicaWriteFailures: registry.counter("kvdb_replica_write_failures_total", "Replica uploads to a volume that failed (nothing was stored for that PUT)"),
    authFailures: new AuthFailures(registry),
    census: new Census(index),
    traffic: new TrafficSampler(requests),
    started: Date.now(),
  };
}
