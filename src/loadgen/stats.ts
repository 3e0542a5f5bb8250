/**
 * What one step of a workload did: successful operations and their latencies, bytes
 * moved, errors (with the first few messages), and the time during which at least
 * one of its operations was in flight. Rates are per second of the workload's wall
 * time when its workers run at once; for a workload run one operation at a time
 * (large) they are per second of the step's own busy time, so the PUT's and the
 * GET's MB/s are each the rate of that transfer.
 */
const KEPT_MESSAGES = 5;

export class Step {
  ops = 0;
  errors = 0;
  bytes = 0;
  busyMs = 0;
  readonly messages: string[] = [];
  private latencies: number[] = [];
  /** For uploads: from the last byte sent to the answer (the server's fsyncs and bookkeeping). */
  private tails: number[] = [];
  private inFlight = 0;
  private since = 0;

  /**
   * @param name  what the table calls it ("put", "get 302", …)
   * @param kind  "step" (one request), "cycle" (several steps: its errors are theirs,
   *              not counted twice) or "quiet" (setup and cleanup: listed only with errors)
   */
  constructor(
    readonly name: string,
    readonly kind: StepKind = "step",
  ) {}

  /** Marks an operation's start; pass the returned time to ok() or fail(). */
  begin(): number {
    const now = performance.now();
    if (this.inFlight++ === 0) this.since = now;
    return now;
  }

  private end(): number {
    const now = performance.now();
    if (--this.inFlight === 0) this.busyMs += now - this.since;
    return now;
  }

  ok(t0: number, bytes = 0): void {
    this.latencies.push(this.end() - t0);
    this.ops++;
    this.bytes += bytes;
  }

  /** Records how long the answer to an upload took after its last byte went out. */
  tail(ms: number): void {
    this.tails.push(ms);
  }

  fail(message: string): void {
    this.end();
    this.errors++;
    if (this.messages.length < KEPT_MESSAGES) this.messages.push(message);
  }

  /** Closes the busy time of operations still in flight (a workload cut short). */
  settle(): void {
    if (this.inFlight > 0) this.busyMs += performance.now() - this.since;
    this.inFlight = 0;
  }

  /** @param wallSeconds the base of the rates; omitted: this step's busy time. */
  summary(wallSeconds?: number): StepSummary {
    const pctOf = (xs: number[]) => {
      const sorted = Float64Array.from(xs).sort();
      return (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
    };
    const pct = pctOf(this.latencies);
    const seconds = wallSeconds ?? this.busyMs / 1000;
    return {
      step: this.name,
      ops: this.ops,
      opsPerSec: seconds > 0 ? this.ops / seconds : 0,
      mbPerSec: this.bytes && seconds > 0 ? this.bytes / 1e6 / seconds : null,
      p50Ms: pct(50),
      p99Ms: pct(99),
      errors: this.errors,
      ...(this.tails.length ? { tailP50Ms: pctOf(this.tails)(50) } : {}),
      bytes: this.bytes,
      seconds,
      messages: this.messages,
      kind: this.kind,
    };
  }
}

export interface StepSummary {
  step: string;
  ops: number;
  opsPerSec: number;
  /** MB (10^6 bytes) per second, null for a step that moves no value bytes. */
  mbPerSec: number | null;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Uploads only: median time from the last byte sent to the answer. */
  tailP50Ms?: number;
  bytes: number;
  seconds: number;
  messages: string[];
  kind: StepKind;
}

export type StepKind = "step" | "cycle" | "quiet";

export interface WorkloadResult {
  workload: string;
  /** Wall time of the workload, setup and cleanup excluded. */
  seconds: number;
  steps: StepSummary[];
}
