/**
 * A job that runs on a schedule, once per period across every master sharing the index
 * (S3's lifecycle rules: src/s3/lifecycle-run.ts). Each master asks on its own timer;
 * a run starts only if no job of its kind ran within the period, and, as every job,
 * only if no job runs anywhere (registry.ts, Index.jobs: PostgreSQL's unique running
 * row, or this master alone with LevelDB). So two masters never run it at once, and
 * a master that stopped mid-run is taken over after its lease runs out (pg-jobs.ts).
 */
import { logged } from "./job-log.ts";
import type { JobBody, JobKind } from "./job.ts";
import type { JobRegistry } from "./registry.ts";

/** Starts a `kind` job running `body` unless one ran within `everyMs` or any job runs (it then runs on, not awaited). */
export async function runIfDue(jobs: JobRegistry, kind: JobKind, everyMs: number, body: JobBody): Promise<void> {
  const last = (await jobs.all()).filter((j) => j.kind === kind).at(-1);
  if (last && (last.state === "running" || Date.now() - (last.finished ?? last.started) < everyMs)) return;
  jobs.define(kind, logged(body));
  await jobs.start(kind, false);
}
