/**
 * A deadline for a test that drives servers and mounts: past it, the test's cleanup
 * runs (synchronously: kill the processes, unmount) and the process fails, naming the
 * step it was stuck at, instead of hanging until the runner's 5-minute kill with a
 * mount and servers left behind.
 */
export interface Watchdog {
  /** Names what the test does now (reported if the deadline passes). */
  step(name: string): void;
  /** Disarms it. */
  stop(): void;
}

export function watchdog(ms: number, cleanup: () => void): Watchdog {
  let current = "starting";
  const t0 = Date.now();
  const timer = setTimeout(() => {
    console.error(`deadline: still running after ${ms / 1000} s, at step "${current}"; cleaning up and failing`);
    try {
      cleanup();
    } finally {
      process.exit(1);
    }
  }, ms);
  return {
    step(name) {
      current = `${name} (from ${((Date.now() - t0) / 1000).toFixed(1)} s)`;
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
