/**
 * Progress of a long job: on a TTY a live bar (count, rate, ETA) redrawn in place on
 * stderr; elsewhere nothing until the one-line summary.
 */
interface Stream {
  isTTY?: boolean;
  write(s: string): unknown;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** One bar line: "verify [#####.....]  512/1024  850/s  ETA 00:01". */
export function barLine(label: string, done: number, total: number, rate: number, eta?: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const fill = Math.round(frac * width);
  const left = total <= 0 || rate <= 0 ? NaN : (eta ?? (total - done) / rate);
  const of = total > 0 ? `/${total}` : "";
  return `${label} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${done}${of}  ${rate.toFixed(rate < 10 ? 1 : 0)}/s  ETA ${clock(left)}`;
}

export class Bar {
  private shown = false;
  constructor(private readonly out: Stream = process.stderr) {}

  get live(): boolean {
    return this.out.isTTY === true;
  }

  update(line: string): void {
    if (!this.live) return;
    this.out.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write("\r\x1b[K");
    this.shown = false;
  }
}
