/**
 * Per-request metrics of a server: how many requests by role, method and status class,
 * how long they took, their body bytes each way, and how many are in flight. A request
 * ends when its answer's last byte is written (or its client left), and its bytes are
 * what the wire carried: the runtime adapter counts each request through the counter
 * a server passes it (runtime/fast-path.ts), its meter saying both (runtime/request.ts).
 */
import type { RequestCounter } from "../runtime/fast-path.ts";
import { runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import type { Counter, Gauge, Histogram, Labels, Registry } from "./metrics.ts";

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
function labelsOf(role: string, method?: string, status?: number): Labels {
  const statusClass = status === undefined ? "" : `${Math.floor(status / 100)}xx`;
  const id = method === undefined ? role : `${role} ${method} ${statusClass}`;
  let labels = labelSets.get(id);
  if (!labels) labelSets.set(id, (labels = method === undefined ? { role } : { role, method, status_class: statusClass }));
  return labels;
}

/** The counter of `role`'s requests that a server hands its runtime adapter (runtime/fast-path.ts). */
export function requestCounter(role: string, m: RequestMetrics): RequestCounter {
  const roleOnly = labelsOf(role);
  return {
    began: () => m.inFlight.inc(roleOnly),
    ended(method, status, seconds, received, sent) {
      const labels = labelsOf(role, METHODS.has(method) ? method : "other", status);
      m.inFlight.inc(roleOnly, -1);
      m.requests.inc(labels);
      m.duration.observe(labels, seconds);
      if (received > 0) m.received.inc(roleOnly, received);
      if (sent > 0) m.sent.inc(roleOnly, sent);
    },
    dropped: () => m.inFlight.inc(roleOnly, -1),
  };
}
