/** Samples a process's resident memory from /proc every 100 ms (Linux). */
import { readFileSync } from "node:fs";

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or 0 if the process is gone. */
export function procKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Starts sampling; stop() returns the idle (first) and peak RSS in MiB. */
export function sampleRss(pid: number, everyMs = 100): { stop(): { idleMiB: number; peakMiB: number } } {
  const idle = procKiB(pid, "VmRSS");
  let peak = idle;
  const timer = setInterval(() => (peak = Math.max(peak, procKiB(pid, "VmRSS"))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, procKiB(pid, "VmRSS"));
      return { idleMiB: idle / 1024, peakMiB: peak / 1024 };
    },
  };
}
