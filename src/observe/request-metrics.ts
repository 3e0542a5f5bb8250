/**
 * Per-request metrics of a server: how many requests by role, method and status class,
 * how long they took, their body bytes each way, and how many are in flight. A request
 * ends when its answer's last byte is written (or its client left), and its bytes are
 * what the wire carried: the runtime adapter's meter (runtime/request.ts) says both. Without
 * one (app.request() in tests) it ends at the handler's return, with declared lengths.
 */
import type { MiddlewareHandler } from "hono";
import { runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import type { Counter, Gauge, Histogram, Labels, Registry } from "./metrics.ts";
import type { ExchangeMeter, RequestFacts } from "../runtime/request.ts";

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
      "Time from a request's arrival to its answer's last byte written (or its client gone)",
      DURATION_BUCKETS,
    ),
    received: registry.counter("kvdb_http_received_bytes_total", "Request body bytes received (chunked bodies included)"),
    sent: registry.counter("kvdb_http_sent_bytes_total", "Response body bytes sent (streamed bodies included)"),
    inFlight: registry.gauge("kvdb_http_requests_in_flight", "Requests being handled now"),
  };
}

const labelSets = new Map<string, Labels>();

/**
 * The label set of a role (and a method and status class), the same object every time:
 * the metrics find its series by that object, with no JSON key built per call (metrics.ts).
 */
export function labelsOf(role: string, method?: string, status?: number): Labels {
  const statusClass = status === undefined ? "" : `${Math.floor(status / 100)}xx`;
  const id = method === undefined ? role : `${role} ${method} ${statusClass}`;
  let labels = labelSets.get(id);
  if (!labels) labelSets.set(id, (labels = method === undefined ? { role } : { role, method, status_class: statusClass }));
  return labels;
}

/**
 * Counts and times one request answered with `status`: when the adapter's meter says
 * the answer is written, or at once without one (app.request() in tests), with the
 * lengths `declared` gives.
 */
export function countAnswer(role: string, m: RequestMetrics, method: string, meter: ExchangeMeter | undefined, status: number, t0: number, declared: () => [number, number]): void {
  const labels = labelsOf(role, METHODS.has(method) ? method : "other", status);
  const roleOnly = labelsOf(role);
  const head = method === "HEAD";
  const done = (received: number, sent: number) => {
    m.inFlight.inc(roleOnly, -1);
    m.requests.inc(labels);
    m.duration.observe(labels, (performance.now() - t0) / 1000);
    if (received > 0) m.received.inc(roleOnly, received);
    if (sent > 0 && !head) m.sent.inc(roleOnly, sent);
  };
  if (meter) meter.whenDone(() => done(meter.receivedBytes, meter.sentBytes));
  else done(...declared());
}

/** The middleware that counts and times every request of `role` (the S3 port's; servers wrap their fetch, http/server-app.ts). */
export function measureRequests(role: string, m: RequestMetrics): MiddlewareHandler {
  return async (c, next) => {
    const t0 = performance.now();
    m.inFlight.inc(labelsOf(role));
    try {
      await next();
    } catch (e) {
      m.inFlight.inc(labelsOf(role), -1);
      throw e;
    }
    countAnswer(role, m, c.req.method, (c.env as RequestFacts | undefined)?.meter, c.res.status, t0, () => [
      Number(c.req.header("content-length") ?? 0),
      Number(c.res.headers.get("content-length") ?? 0),
    ]);
  };
}
