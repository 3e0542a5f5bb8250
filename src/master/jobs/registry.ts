/**
 * The jobs, as this master starts and reports them. One job runs at a time across
 * every master sharing the index (the index decides: Index.jobs): starting one
 * while another runs, here or on another master, returns the running one. The job
 * this master runs is saved to the index every second, so any master reports it.
 */
import type { Index } from "../index/index.ts";
import { snapshot, type Job, type JobBody, type JobKind } from "./job.ts";

const SAVE_EVERY_MS = 1000;

export class JobRegistry {
  /** The jobs this master ran, by id: fresher than what was last saved. */
  private readonly mine = new Map<string, Job>();
  private serial = 0;

  constructor(
    private readonly index: Index,
    private readonly bodies: Partial<Record<JobKind, JobBody>>,
  ) {}

  /** Gives a kind its work (a layer above the master defines its own jobs: periodic.ts). */
  define(kind: JobKind, body: JobBody): void {
    this.bodies[kind] = body;
  }

  /** Every job the index keeps, oldest first. */
  async all(): Promise<Job[]> {
    const stored = (await this.index.jobs.all()) as Job[];
    return stored.map((j) => this.mine.get(j.id) ?? j);
  }

  async get(id: string): Promise<Job | undefined> {
    return this.mine.get(id) ?? (await this.all()).find((j) => j.id === id);
  }

  /** Starts a job, or returns the one running (of whatever kind, on whichever master). */
  async start(kind: JobKind, repair: boolean, quick = false): Promise<Job> {
    const body = this.bodies[kind];
    if (!body) throw new Error(`no ${kind} job on this master`);
    const job: Job = {
      id: `${kind}-${Date.now().toString(36)}-${++this.serial}`,
      kind,
      repair,
      quick,
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
    const running = (await this.index.jobs.start(job)) as Job;
    if (running.id !== job.id) return this.mine.get(running.id) ?? running;
    this.mine.set(job.id, job);
    this.run(job, body);
    return job;
  }

  private run(job: Job, body: JobBody): void {
    // Saved as it goes; once finished, until a save gets through (the index may be down just then).
    let saving = false;
    const saver = setInterval(() => {
      if (saving) return;
      saving = true;
      const finished = job.state !== "running";
      this.index.jobs.save(snapshot(job)).then(
        () => finished && clearInterval(saver),
        () => {},
      ).finally(() => (saving = false));
    }, SAVE_EVERY_MS);
    saver.unref?.();
    body(job).then(
      () => {
        job.state = "done";
        job.finished = Date.now();
      },
      (e) => {
        job.ok = false;
        job.state = "failed";
        job.finished = Date.now();
        job.summary = `${job.kind} failed: ${(e as Error).message}`; // logged by job-log.ts
      },
    );
  }
}
