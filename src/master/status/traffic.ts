/**
 * Recent traffic for the status page: requests/s, the share of 5xx answers and latency
 * percentiles over about the last minute, from the request metrics' running totals
 * sampled every few seconds.
 */
import { quantile, type HistogramData } from "../../observe/metrics.ts";
import type { RequestMetrics } from "../../observe/request-metrics.ts";

interface Sample {
  at: number;
  requests: number;
  errors: number;
  latency: HistogramData;
}

export interface Traffic {
  /** Seconds the figures cover. */
  windowSeconds: number;
  requestsPerSecond: number;
  /** Share of answers that were 5xx, 0..1. */
  errorRate: number;
  /** Seconds; null with no request in the window. */
  p50: number | null;
  p99: number | null;
}

const EVERY_MS = 5000;
const KEEP = 12; // a minute of samples

export class TrafficSampler {
  private samples: Sample[] = [];
  private timer?: ReturnType<typeof setInterval>;

  constructor(private readonly m: RequestMetrics) {}

  private now(): Sample {
    return {
      at: Date.now(),
      requests: this.m.requests.sum(() => true),
      errors: this.m.requests.sum((l) => l.status_class === "5xx"),
      latency: this.m.duration.total(),
    };
  }

  start(): void {
    this.samples.push(this.now());
    this.timer = setInterval(() => {
      this.samples.push(this.now());
      if (this.samples.length > KEEP) this.samples.shift();
    }, EVERY_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The figures from the oldest sample kept to now. */
  traffic(): Traffic {
    const now = this.now();
    const from = this.samples[0] ?? now;
    const seconds = Math.max(0.001, (now.at - from.at) / 1000);
    const requests = now.requests - from.requests;
    const latency: HistogramData = {
      counts: now.latency.counts.map((n, i) => n - (from.latency.counts[i] ?? 0)),
      sum: now.latency.sum - from.latency.sum,
      count: now.latency.count - from.latency.count,
    };
    const q = (p: number) => {
      const v = quantile(this.m.duration.buckets, latency, p);
      return Number.isNaN(v) ? null : v;
    };
    return {
      windowSeconds: Math.round(seconds),
      requestsPerSecond: Math.round((requests / seconds) * 10) / 10,
      errorRate: requests ? (now.errors - from.errors) / requests : 0,
      p50: q(0.5),
      p99: q(0.99),
    };
  }
}
