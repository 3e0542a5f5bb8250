/**
 * The outer app of every server: errors rendered and logged, requests counted and
 * timed (GET /_kvdb/metrics), --verbose request lines; the role's own routes inside.
 */
import { Hono } from "hono";
import { renderError } from "./errors.ts";
import { requestLog, serverErrors } from "./log.ts";
import { EXPOSITION_TYPE, type Registry } from "./metrics.ts";
import { measureRequests, type RequestMetrics } from "./request-metrics.ts";

export interface ServerAppOptions {
  role: string;
  verbose: boolean;
  registry: Registry;
  requests: RequestMetrics;
}

/** Wraps `inner` (mounted at /); routes added to the result before `mount` come first. */
export function serverApp(o: ServerAppOptions): { app: Hono; mount(inner: Hono): Hono } {
  const app = new Hono();
  app.use(serverErrors(o.role));
  app.use(measureRequests(o.role, o.requests));
  if (o.verbose) app.use(requestLog(o.role));
  // Open like a health check: Prometheus does not sign, and no key appears in it.
  app.get("/_kvdb/metrics", async (c) => c.body(await o.registry.exposition(), 200, { "content-type": EXPOSITION_TYPE }));
  return {
    app,
    mount(inner) {
      app.route("/", inner);
      app.onError(renderError);
      return app;
    },
  };
}
