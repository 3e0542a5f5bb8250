/**
 * Requests refused at the door of either API, the curl API's (access.ts) and S3's
 * (s3/auth.ts): counted as kvdb_auth_failures_total{reason} in the master's metrics and
 * logged with the key id they named, never a secret.
 */
import { logLine } from "../observe/logger.ts";
import type { Counter, Registry } from "../observe/metrics.ts";

/** Why a request was refused. */
export type Reason = "malformed" | "missing" | "unknown-key" | "bad-secret" | "expired" | "no-grant";

export class AuthFailures {
  private readonly counter: Counter;

  constructor(registry: Registry) {
    this.counter = registry.counter("kvdb_auth_failures_total", "Requests refused at the door, by reason");
  }

  refused(role: string, reason: Reason, message: string, id: string | undefined): void {
    this.counter.inc({ reason });
    logLine("warn", role, `refused: ${message}`, { reason, key: id ?? "-" });
  }
}
