/**
 * CPU time by process during a workload, from /proc (Linux): how many of the
 * machine's cores the master, the volumes and everything together kept busy. With
 * 2 cores shared by the servers and the load generator, this says who the bottleneck is.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process (all its threads), in seconds; 0 if it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Minor page faults a process has taken (/proc/PID/stat minflt): memory touched for
 * the first time since the allocator got it from the kernel (docs/PERFORMANCE.md, "Page faults").
 */
export function processMinorFaults(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[7]);
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores). */
function machineBusySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4]; // idle + iowait
  return (total - idle) / TICKS_PER_SECOND;
}

export interface CpuShare {
  /** Cores kept busy on average, per named group of processes. */
  cores: Record<string, number>;
  /** CPU seconds (user + system) used, per named group of processes. */
  seconds: Record<string, number>;
  /** Cores busy machine-wide (the load generator and everything else included). */
  machine: number;
}

/** Starts measuring; stop() gives the average cores used by each group since. */
export function measureCpu(groups: Record<string, number[]>): { stop(): CpuShare } {
  const t0 = performance.now();
  const m0 = machineBusySeconds();
  const sum = (pids: number[]) => pids.reduce((s, p) => s + processCpuSeconds(p), 0);
  const start = Object.fromEntries(Object.entries(groups).map(([g, pids]) => [g, sum(pids)]));
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const m1 = machineBusySeconds();
      const cores: Record<string, number> = {};
      const used: Record<string, number> = {};
      for (const [g, pids] of Object.entries(groups)) {
        used[g] = sum(pids) - start[g];
        cores[g] = used[g] / seconds;
      }
      return { cores, seconds: used, machine: (m1 - m0) / seconds };
    },
  };
}
