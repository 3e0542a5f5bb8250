/** What every master handler works with. */
import type { Index } from "./index/index.ts";
import type { JobRegistry } from "./jobs/registry.ts";
import type { KeyLocks } from "./locks.ts";
import type { VolumeClient } from "./volume-client.ts";
import type { MasterStats } from "./status/stats.ts";
import type { VolumeSet } from "./volumes.ts";

export interface Master {
  index: Index;
  volumes: VolumeSet;
  /** Every call to a volume goes through it. */
  client: VolumeClient;
  replicas: number;
  /**
   * Replicas a write needs fsynced on distinct volumes to succeed (--min-replicas, ≤
   * replicas); the others are owed (KeyRecord.owed) and the janitor copies them.
   */
  minReplicas: number;
  /** Keys with an operation in flight here: a second write or delete waits (in-flight.ts). */
  locks: KeyLocks;
  /** How long a write or delete waits for another operation on its key before it fails busy (--busy-wait). */
  busyWaitMs: number;
  /** Long jobs (rebalance, verify) of this master's life. */
  jobs: JobRegistry;
  /** Stream GET bodies through the master instead of redirecting. */
  proxy: boolean;
  /** Values longer than this many bytes go straight to a volume (direct-write.ts; --direct-threshold); undefined: none does. */
  directThreshold?: number;
  /** Largest value accepted, in bytes (--max-size); undefined: no limit. */
  maxSize?: number;
  /** The cluster's shared secret: starting and reading jobs (/_kvdb/jobs) must be signed with it. */
  secret?: string;
  /** Metrics and what the status page shows. */
  stats: MasterStats;
}
