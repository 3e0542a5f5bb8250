/**
 * A long operation that runs inside one master (one at a time across the masters
 * sharing an index): its progress, its tallies and problems, and the per-key worker
 * pool that drives it.
 */
import type { Index } from "../index/index.ts";

/** lifecycle: S3's lifecycle rules, run by the layer above (periodic.ts, src/s3/lifecycle-run.ts). */
export type JobKind = "rebalance" | "verify" | "lifecycle";

export interface Job {
  id: string;
  kind: JobKind;
  repair: boolean;
  /** verify --quick: the volumes' catalogs are read, no replica re-hashed (jobs/catalog-checks.ts). */
  quick?: boolean;
  state: "running" | "done" | "failed";
  /** Keys looked at so far, of `total` (counted when the job started). */
  done: number;
  total: number;
  started: number;
  finished?: number;
  /** Keys per second so far, and seconds left at that rate. */
  rate: number;
  eta: number;
  /** Named tallies: moved, unchanged, missing, corrupt, repaired… */
  counts: Record<string, number>;
  /** The first problems found, one line each (at most 100 kept). */
  problems: string[];
  /** All is well: nothing left wrong (after repair, for verify --repair). */
  ok: boolean;
  summary: string;
}

/** A job's work, given the job to report on. */
export type JobBody = (job: Job) => Promise<void>;

const MAX_PROBLEMS = 100;

export function count(job: Job, name: string, n = 1): void {
  job.counts[name] = (job.counts[name] ?? 0) + n;
}

export function problem(job: Job, line: string): void {
  count(job, "problems");
  if (job.problems.length < MAX_PROBLEMS) job.problems.push(line);
}

/** The job as reported over HTTP, with its rate and ETA as of now. */
export function snapshot(job: Job): Job {
  const s = ((job.finished ?? Date.now()) - job.started) / 1000;
  const rate = s > 0 ? job.done / s : 0;
  return { ...job, rate: Math.round(rate * 10) / 10, eta: rate > 0 ? Math.max(0, Math.round((job.total - job.done) / rate)) : 0 };
}

/**
 * Runs `fn` on every key of the index, `width` at a time, counting job.done. The keys
 * are read through one iterator, never loaded whole.
 */
export async function eachKey(index: Index, job: Job, width: number, fn: (key: string) => Promise<void>): Promise<void> {
  job.total = await index.count();
  const it = index.scan();
  let turn: Promise<unknown> = Promise.resolve();
  // An iterator takes one next() at a time: the workers queue for it.
  const next = (): Promise<IteratorResult<[string, unknown]>> => {
    const p = turn.then(() => it.next());
    turn = p.catch(() => {});
    return p;
  };
  try {
    await Promise.all(
      Array.from({ length: width }, async () => {
        for (let r = await next(); !r.done; r = await next()) {
          await fn(r.value[0]);
          job.done++;
        }
      }),
    );
  } finally {
    await turn;
    await it.return?.();
  }
  job.total = Math.max(job.total, job.done);
}
