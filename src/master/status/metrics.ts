/**
 * The master's own metrics, read at each scrape: each volume's health and space, the
 * index's counts (census.ts), and the jobs of this master's life.
 */
import type { Master } from "../master.ts";

export function registerMasterMetrics(m: Master): void {
  const r = m.stats.registry;
  const up = r.gauge("kvdb_volume_up", "1 if the volume answered its last health check, else 0");
  const free = r.gauge("kvdb_volume_free_bytes", "Free bytes the volume reported at its last health check");
  const total = r.gauge("kvdb_volume_total_bytes", "Capacity the volume reported at its last health check");
  const blobs = r.gauge("kvdb_volume_blobs", "Values the volume held at its last health check");
  const keys = r.gauge("kvdb_keys", "Keys in the index, by state");
  const owed = r.gauge("kvdb_replicas_owed_delete", "Replicas still to be deleted from a volume that was down");
  const pending = r.gauge("kvdb_operations_pending", "Writes and deletes in flight or left by a stop");
  const jobRunning = r.gauge("kvdb_job_running", "1 while a job of this kind runs");
  const jobDone = r.gauge("kvdb_job_keys_done", "Keys the latest job of this kind has looked at");
  const jobTotal = r.gauge("kvdb_job_keys", "Keys the latest job of this kind has to look at");
  const jobOk = r.gauge("kvdb_job_last_ok", "1 if the latest finished job of this kind found all well");
  const jobEnd = r.gauge("kvdb_job_last_finished_timestamp_seconds", "When the latest job of this kind finished");
  r.onCollect(async () => {
    for (const v of m.volumes.all) {
      const labels = { volume: v.name, zone: v.zone };
      up.set(labels, v.up ? 1 : 0);
      free.set(labels, v.free);
      total.set(labels, v.total);
      blobs.set(labels, v.count);
    }
    const counts = await m.stats.census.counts();
    for (const [state, n] of Object.entries(counts.keys)) keys.set({ state }, n);
    owed.set({}, counts.orphans);
    pending.set({}, counts.pending);
    for (const job of m.jobs.all()) {
      const kind = { kind: job.kind };
      jobRunning.set(kind, job.state === "running" ? 1 : 0);
      jobDone.set(kind, job.done);
      jobTotal.set(kind, job.total);
      if (job.finished) {
        jobOk.set(kind, job.ok ? 1 : 0);
        jobEnd.set(kind, job.finished / 1000);
      }
    }
  });
}
