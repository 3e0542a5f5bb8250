/**
 * A job's lines in the master's log: when it starts, its progress every 10 s while it
 * runs, and its summary (or why it failed) when it ends.
 */
import { logger } from "../../observe/logger.ts";
import { snapshot, type JobBody } from "./job.ts";

const PROGRESS_EVERY_MS = 10_000;
const log = logger("master");

export function logged(body: JobBody): JobBody {
  return async (job) => {
    const fields = () => {
      const s = snapshot(job);
      return { job: job.id, kind: job.kind, repair: job.repair, done: s.done, total: s.total, rate: s.rate, eta: s.eta };
    };
    log.info(`${job.kind} started`, fields());
    const timer = setInterval(() => log.info(`${job.kind} progress`, fields()), PROGRESS_EVERY_MS);
    timer.unref?.();
    try {
      await body(job);
      log.info(job.summary, { ...fields(), ok: job.ok });
    } catch (e) {
      log.error(`${job.kind} failed: ${(e as Error).message}`, { ...fields(), cause: (e as Error).stack });
      throw e;
    } finally {
      clearInterval(timer);
    }
  };
}
