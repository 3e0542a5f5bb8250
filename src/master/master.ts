/** What every master handler works with. */
import type { KeyLocks } from "./locks.ts";
import type { Records } from "./records.ts";
import type { VolumeSet } from "./volumes.ts";

export interface Master {
  records: Records;
  volumes: VolumeSet;
  replicas: number;
  /** Keys with an operation in flight: a second write or delete gets 409 at once. */
  locks: KeyLocks;
  /** Stream GET bodies through the master instead of redirecting. */
  proxy: boolean;
  /** How long a volume may stall (no answer, no progress) before a call to it fails. */
  timeoutMs: number;
  /** Largest value accepted, in bytes (--max-size); undefined: no limit. */
  maxSize?: number;
  /** The cluster's shared secret: starting and reading jobs (/_kvdb/jobs) must be signed with it. */
  secret?: string;
}
