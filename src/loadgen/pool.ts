/**
 * The load loop: `concurrency` workers take operation numbers 0, 1, 2, … until
 * `count` were taken, the deadline passed or the run was stopped (Ctrl-C). No
 * operation starts after the deadline; the ones in flight finish (each request has
 * its own stall timeout), so a workload is bounded in count and in time.
 */
export interface Bounds {
  concurrency: number;
  count: number;
  /** performance.now() after which no operation starts. */
  deadline: number;
  stopped: () => boolean;
}

export async function runPool(b: Bounds, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const more = () => next < b.count && performance.now() < b.deadline && !b.stopped();
  const worker = async () => {
    while (more()) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(b.concurrency, b.count)) }, worker));
}
