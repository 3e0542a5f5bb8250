/** Samples a process's resident memory from /proc every 100 ms (Linux). */
import { readFileSync } from "node:fs";

/**
 * A field of /proc/<pid>/status in KiB, or 0 if the process is gone: VmRSS (resident),
 * VmHWM (its peak), and VmRSS's parts RssAnon (the heap and other private memory) and
 * RssFile (pages of mapped files, such as LevelDB's table files).
 */
export function procKiB(pid: number, field: "VmRSS" | "VmHWM" | "RssAnon" | "RssFile"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface RssSamples {
  /** At the start, before any load. */
  idleMiB: number;
  peakMiB: number;
  medianMiB: number;
  samples: number;
}

/** Starts sampling; stop() returns the idle (first), peak and median RSS in MiB. */
export function sampleRss(pid: number, everyMs = 100): { stop(): RssSamples } {
  const idle = procKiB(pid, "VmRSS");
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(procKiB(pid, "VmRSS")), everyMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(procKiB(pid, "VmRSS"));
      const sorted = [...samples].sort((a, b) => a - b);
      const mib = (kib: number) => kib / 1024;
      return { idleMiB: mib(idle), peakMiB: mib(Math.max(idle, ...samples)), medianMiB: mib(sorted[sorted.length >> 1]), samples: samples.length };
    },
  };
}
