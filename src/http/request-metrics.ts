/**
 * Per-request metrics of a server: how many requests by role, method and status class,
 * how long they took, the bytes their bodies declared, and how many are in flight.
 */
import type { MiddlewareHandler } from "hono";
import { runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import type { Counter, Gauge, Histogram, Registry } from "./metrics.ts";

/** Seconds, 1 ms to 2 min: a 1 GiB PUT over a slow link is a request too. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

const METHODS = new Set(["GET", "HEAD", "PUT", "POST", "DELETE", "UNLINK"]);

export interface RequestMetrics {
  requests: Counter;
  duration: Histogram;
  received: Counter;
  sent: Counter;
  inFlight: Gauge;
}

/** Registers the request metrics (and kvdb_build_info) in a server's registry. */
export function requestMetrics(registry: Registry): RequestMetrics {
  registry.gauge("kvdb_build_info", "kvdb's version and the runtime it runs on (always 1)").set({ version: VERSION, runtime: runtime.name }, 1);
  return {
    requests: registry.counter("kvdb_http_requests_total", "HTTP requests answered, by role, method and status class"),
    duration: registry.histogram(
      "kvdb_http_request_duration_seconds",
      "Time from a request's arrival to its answer (an upload's body included; a download's body not)",
      DURATION_BUCKETS,
    ),
    received: registry.counter("kvdb_http_received_bytes_total", "Request body bytes of PUTs and POSTs, as their Content-Length declared"),
    sent: registry.counter("kvdb_http_sent_bytes_total", "Response body bytes of 200 and 206 answers (values), as their Content-Length declared"),
    inFlight: registry.gauge("kvdb_http_requests_in_flight", "Requests being handled now"),
  };
}

/**
 * Counts and times one answered request. Only a PUT's or POST's Content-Length is
 * read, and only a 200's or 206's (the answers that carry values): on Node, reading the
 * headers of any other answer would build Headers objects the request never needed.
 */
export function countAnswer(role: string, m: RequestMetrics, method: string, received: () => string | undefined | null, res: Response, t0: number): void {
  const labels = { role, method: METHODS.has(method) ? method : "other", status_class: `${Math.floor(res.status / 100)}xx` };
  m.requests.inc(labels);
  m.duration.observe(labels, (performance.now() - t0) / 1000);
  const bytesIn = method === "PUT" || method === "POST" ? Number(received() ?? 0) : 0;
  const bytesOut = method !== "HEAD" && (res.status === 200 || res.status === 206) ? Number(res.headers.get("content-length") ?? 0) : 0;
  if (bytesIn > 0) m.received.inc({ role }, bytesIn);
  if (bytesOut > 0) m.sent.inc({ role }, bytesOut);
}

/** The middleware that counts and times every request of `role`. */
export function measureRequests(role: string, m: RequestMetrics): MiddlewareHandler {
  return async (c, next) => {
    const t0 = performance.now();
    m.inFlight.inc({ role });
    try {
      await next();
    } finally {
      m.inFlight.inc({ role }, -1);
    }
    countAnswer(role, m, c.req.method, () => c.req.header("content-length"), c.res, t0);
  };
}
