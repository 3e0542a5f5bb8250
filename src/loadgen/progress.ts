/** A live line on a TTY (stderr): workload, seconds, operations, rate, errors. Silent elsewhere. */
import type { Step } from "./stats.ts";

interface Stream {
  isTTY?: boolean;
  write(s: string): unknown;
}

export class Progress {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly out: Stream) {}

  show(workload: string, step: Step, seconds: number): void {
    this.done();
    if (!this.out.isTTY) return;
    const t0 = performance.now();
    this.timer = setInterval(() => {
      const s = (performance.now() - t0) / 1000;
      const rate = s > 0 ? Math.round(step.ops / s) : 0;
      const errors = step.errors ? `, ${step.errors} errors` : "";
      this.out.write(`\r\x1b[K${workload}: ${s.toFixed(1)}/${seconds} s, ${step.ops} ${step.name} ok, ${rate}/s${errors}`);
    }, 250);
    this.timer.unref?.();
  }

  done(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.write("\r\x1b[K");
  }
}
