/**
 * The jobs of one master's life. One job runs at a time: two would fight over the same
 * keys, so starting another kind while one runs returns the running one.
 */
import type { Job, JobBody, JobKind } from "./job.ts";

export class JobRegistry {
  private readonly jobs: Job[] = [];
  private serial = 0;

  constructor(private readonly bodies: Record<JobKind, JobBody>) {}

  all(): readonly Job[] {
    return this.jobs;
  }

  get(id: string): Job | undefined {
    return this.jobs.find((j) => j.id === id);
  }

  /** Starts a job, or returns the one running (of whatever kind). */
  start(kind: JobKind, repair: boolean): Job {
    const running = this.jobs.find((j) => j.state === "running");
    if (running) return running;
    const job: Job = {
      id: `${kind}-${Date.now().toString(36)}-${++this.serial}`,
      kind,
      repair,
      state: "running",
      done: 0,
      total: 0,
      started: Date.now(),
      rate: 0,
      eta: 0,
      counts: {},
      problems: [],
      ok: false,
      summary: "",
    };
    this.jobs.push(job);
    this.bodies[kind](job).then(
      () => {
        job.state = "done";
        job.finished = Date.now();
      },
      (e) => {
        job.ok = false;
        job.state = "failed";
        job.finished = Date.now();
        job.summary = `${kind} failed: ${(e as Error).message}`; // logged by job-log.ts
      },
    );
    return job;
  }
}
