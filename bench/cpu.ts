/**
 * CPU time by process during a workload, from /proc (Linux): how many of the
 * machine's cores the master, the volumes and everything together kept busy. With
 * 2 cores shared by the servers and the load generator, this says who the bottleneck is.
 *
 * A process's time is the scheduler's own count of the time its threads ran
 * (/proc/PID/task/TID/schedstat, in ns), not utime + stime: those are charged by the
 * tick, which overstated this cluster's servers by ~30% under the thrash (servers
 * waking for a few µs thousands of times a second; docs/PERFORMANCE.md). The machine's
 * busy time is the elapsed time of every core less its idle time, which a tickless
 * kernel counts from timestamps, not ticks.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Seconds the threads of a process ran; 0 if it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e9, 0);
  } catch {
    return tickSeconds(pid); // no schedstat (a kernel without CONFIG_SCHED_INFO), or the process is gone
  }
}

/** utime + stime of a process (all its threads), in seconds; 0 if it is gone. */
function tickSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Idle (and iowait) seconds of the whole machine, all cores. */
function machineIdleSeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return (fields[3] + fields[4]) / TICKS_PER_SECOND;
}

export interface CpuShare {
  /** Cores kept busy on average, per named group of processes. */
  cores: Record<string, number>;
  /** Cores busy machine-wide (the load generator and everything else included). */
  machine: number;
}

/** Starts measuring; stop() gives the average cores used by each group since. */
export function measureCpu(groups: Record<string, number[]>): { stop(): CpuShare } {
  const t0 = performance.now();
  const idle0 = machineIdleSeconds();
  const sum = (pids: number[]) => pids.reduce((s, p) => s + processCpuSeconds(p), 0);
  const start = Object.fromEntries(Object.entries(groups).map(([g, pids]) => [g, sum(pids)]));
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const idle = machineIdleSeconds() - idle0;
      const cores: Record<string, number> = {};
      for (const [g, pids] of Object.entries(groups)) cores[g] = (sum(pids) - start[g]) / seconds;
      return { cores, machine: Math.max(0, availableParallelism() - idle / seconds) };
    },
  };
}
