/**
 * Jobs of one master's life, for a store only one master uses (level.ts): the running
 * job is the caller's own object, so its progress needs no saving.
 */
import type { JobRecord, Jobs } from "./index.ts";

export class MemoryJobs implements Jobs {
  private readonly list: JobRecord[] = [];

  async start(job: JobRecord): Promise<JobRecord> {
    const running = this.list.find((j) => j.state === "running");
    if (running) return running;
    this.list.push(job);
    return job;
  }

  async save(_job: JobRecord): Promise<void> {}

  async all(): Promise<JobRecord[]> {
    return [...this.list];
  }
}
