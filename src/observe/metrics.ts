/**
 * Prometheus metrics, hand-written: counters, gauges and histograms in a registry that
 * renders the text exposition format 0.0.4 (GET /_kvdb/metrics). No library: the same
 * code serves Node, Deno and the Bun binary, and kvdb needs only these three kinds.
 * Names follow Prometheus practice: one kvdb_ prefix, base units (seconds, bytes),
 * _total on counters; label values are never keys.
 */
export type Labels = Record<string, string>;

/** What the registry renders of a metric. */
interface Exposed {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  lines(): string[];
}

/** Series of one metric, by their label set. */
abstract class Metric<T> implements Exposed {
  protected readonly series = new Map<string, { labels: Labels; value: T }>();
  /** Series by the very label objects callers keep and pass again (the per-request metrics do): no key to build. */
  private readonly byObject = new WeakMap<Labels, { labels: Labels; value: T }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}

  protected slot(labels: Labels, init: () => T): { labels: Labels; value: T } {
    let s = this.byObject.get(labels);
    if (s) return s;
    const id = JSON.stringify(labels);
    s = this.series.get(id);
    if (!s) this.series.set(id, (s = { labels, value: init() }));
    this.byObject.set(labels, s);
    return s;
  }

  abstract lines(): string[];
}

function escape(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN";
}

export class Counter extends Metric<number> {
  inc(labels: Labels = {}, n = 1): void {
    this.slot(labels, () => 0).value += n;
  }

  /** The sum of the series whose labels `match`. */
  sum(match: (labels: Labels) => boolean): number {
    let n = 0;
    for (const { labels, value } of this.series.values()) if (match(labels)) n += value;
    return n;
  }

  lines(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${num(s.value)}`);
  }
}

export class Gauge extends Counter {
  set(labels: Labels, v: number): void {
    this.slot(labels, () => 0).value = v;
  }
}

export interface HistogramData {
  /** Observations at or below each bucket's bound, cumulative, then +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramData> {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, "histogram");
  }

  observe(labels: Labels, v: number): void {
    const h = this.slot(labels, () => ({ counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 })).value;
    for (let i = this.buckets.length - 1; i >= 0 && v <= this.buckets[i]; i--) h.counts[i]++;
    h.sum += v;
    h.count++;
  }

  /** Every series summed: the histogram of all of them. */
  total(): HistogramData {
    const out: HistogramData = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
    for (const { value } of this.series.values()) {
      value.counts.forEach((n, i) => (out.counts[i] += n));
      out.sum += value.sum;
      out.count += value.count;
    }
    return out;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((le, i) => out.push(`${this.name}_bucket${labelText({ ...labels, le: num(le) })} ${value.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${value.count}`);
      out.push(`${this.name}_sum${labelText(labels)} ${num(value.sum)}`);
      out.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
    return out;
  }
}

/**
 * The value below which `q` (0..1) of the observations fall, interpolated within its
 * bucket as Prometheus's histogram_quantile does; NaN with no observations.
 */
export function quantile(buckets: readonly number[], h: HistogramData, q: number): number {
  if (!h.count) return NaN;
  const rank = q * h.count;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (h.counts[i] >= rank) {
      const lower = i ? buckets[i - 1] : 0;
      const inBucket = h.counts[i] - below;
      return lower + (buckets[i] - lower) * (inBucket ? (rank - below) / inBucket : 1);
    }
    below = h.counts[i];
  }
  return buckets[buckets.length - 1]; // beyond the last bound: as histogram_quantile does
}

/** The metrics of one server; `collect` hooks refresh gauges just before each scrape. */
export class Registry {
  private readonly metrics: Exposed[] = [];
  private readonly collectors: (() => void | Promise<void>)[] = [];

  /** Adds a metric made elsewhere (one a module keeps for the whole process, say). */
  add<M extends Exposed>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help, "counter"));
  }

  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help, "gauge"));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn);
  }

  /** Runs the collect hooks (gauges up to date). */
  async collect(): Promise<void> {
    for (const fn of this.collectors) await fn();
  }

  /** The text exposition format, version 0.0.4. */
  async exposition(): Promise<string> {
    await this.collect();
    const out: string[] = [];
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${m.name} ${m.type}`, ...m.lines());
    }
    return out.join("\n") + "\n";
  }
}

export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";
