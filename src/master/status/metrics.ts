/**
 * The master's own metrics, read at each scrape: each volume's health and space, the
 * index's counts (census.ts), and the jobs of this master's life.
 */
import type { Gauge, Registry } from "../../observe/metrics.ts";
import type { Master } from "../master.ts";

/** Name and help of each gauge, by the name the collector uses. */
const GAUGES = {
  up: ["kvdb_volume_up", "1 if the volume answered its last health check, else 0"],
  free: ["kvdb_volume_free_bytes", "Free bytes the volume reported at its last health check"],
  total: ["kvdb_volume_total_bytes", "Capacity the volume reported at its last health check"],
  blobs: ["kvdb_volume_blobs", "Values the volume held at its last health check"],
  keys: ["kvdb_keys", "Keys in the index, by state"],
  owed: ["kvdb_replicas_owed_delete", "Replicas still to be deleted from a volume that was down"],
  underReplicated: ["kvdb_under_replicated_keys", "Keys with fewer replicas than --replicas, owed copies the janitor makes (--min-replicas)"],
  pending: ["kvdb_operations_pending", "Writes and deletes in flight or left by a stop"],
  jobRunning: ["kvdb_job_running", "1 while a job of this kind runs"],
  jobDone: ["kvdb_job_keys_done", "Keys the latest job of this kind has looked at"],
  jobTotal: ["kvdb_job_keys", "Keys the latest job of this kind has to look at"],
  jobOk: ["kvdb_job_last_ok", "1 if the latest finished job of this kind found all well"],
  jobEnd: ["kvdb_job_last_finished_timestamp_seconds", "When the latest job of this kind finished"],
} as const;

function gauges(r: Registry): Record<keyof typeof GAUGES, Gauge> {
  return Object.fromEntries(Object.entries(GAUGES).map(([k, [name, help]]) => [k, r.gauge(name, help)])) as Record<keyof typeof GAUGES, Gauge>;
}

export function registerMasterMetrics(m: Master): void {
  const g = gauges(m.stats.registry);
  m.stats.registry.onCollect(async () => {
    for (const v of m.volumes.all) {
      const labels = { volume: v.name, zone: v.zone };
      g.up.set(labels, v.up ? 1 : 0);
      g.free.set(labels, v.free);
      g.total.set(labels, v.total);
      g.blobs.set(labels, v.count);
    }
    const counts = await m.stats.census.counts();
    for (const [state, n] of Object.entries(counts.keys)) g.keys.set({ state }, n);
    g.owed.set({}, counts.orphans);
    g.underReplicated.set({}, counts.underReplicated);
    g.pending.set({}, counts.pending);
    for (const job of await m.jobs.all()) {
      const kind = { kind: job.kind };
      g.jobRunning.set(kind, job.state === "running" ? 1 : 0);
      g.jobDone.set(kind, job.done);
      g.jobTotal.set(kind, job.total);
      if (job.finished) {
        g.jobOk.set(kind, job.ok ? 1 : 0);
        g.jobEnd.set(kind, job.finished / 1000);
      }
    }
  });
}
