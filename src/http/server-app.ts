/**
 * The outer app of every server: errors rendered and logged, requests counted and
 * timed (GET /_kvdb/metrics), --verbose request lines; the role's own routes inside.
 */
import { Hono } from "hono";
import { renderError } from "./errors.ts";
import { logServerError, requestLog } from "../observe/log.ts";
import { EXPOSITION_TYPE, type Registry } from "../observe/metrics.ts";
import { countAnswer, labelsOf, type RequestMetrics } from "../observe/request-metrics.ts";
import type { RequestFacts } from "../runtime/request.ts";
import type { Direct } from "../runtime/types.ts";

export interface ServerAppOptions {
  role: string;
  verbose: boolean;
  registry: Registry;
  requests: RequestMetrics;
}

/** The path of a request's URL, for a log line. */
const pathOf = (url: string) => new URL(url).pathname;

/**
 * `fetch`, with each request counted and timed and each 5xx logged around it rather
 * than by Hono middleware: an answer the handler has at once (the master's 302 and
 * 404) then stays synchronous, Hono dispatches it without composing a promise chain,
 * and @hono/node-server writes it on its fast path (docs/PERFORMANCE.md, "The Node
 * master's redirects").
 */
function observed(o: ServerAppOptions, fetch: Hono["fetch"]): Hono["fetch"] {
  const { role, requests: m } = o;
  return (req, env, ctx) => {
    const t0 = performance.now();
    m.inFlight.inc(labelsOf(role));
    const answered = (res: Response) => {
      countAnswer(role, m, req.method, (env as RequestFacts | undefined)?.meter, res.status, t0, () => [
        Number(req.headers.get("content-length") ?? 0),
        Number(res.headers.get("content-length") ?? 0),
      ]);
      if (res.status >= 500) logServerError(role, req.method, pathOf(req.url), res);
      return res;
    };
    const failed = (e: unknown): never => {
      m.inFlight.inc(labelsOf(role), -1);
      throw e;
    };
    let res: Response | Promise<Response>;
    try {
      res = fetch(req, env, ctx);
    } catch (e) {
      return failed(e);
    }
    return res instanceof Promise ? res.then(answered, failed) : answered(res);
  };
}

/** `direct` with its answers counted and timed as `observed` counts the app's; none with --verbose, whose request lines the app writes. */
function observedDirect(o: ServerAppOptions, direct: Direct): Direct | undefined {
  if (o.verbose) return undefined;
  const { role, requests: m } = o;
  return (method, target, meter) => {
    const t0 = performance.now();
    const answer = direct(method, target, meter);
    if (answer) {
      m.inFlight.inc(labelsOf(role));
      countAnswer(role, m, method, meter, answer.status, t0, () => [0, 0]);
    }
    return answer;
  };
}

/**
 * Wraps `inner` (mounted at /); routes added to the result before `mount` come first.
 * `direct`: what the runtime adapter may answer before the app (runtime/types.ts).
 */
export function serverApp(o: ServerAppOptions): { app: Hono; mount(inner: Hono): Hono; direct(d: Direct): Direct | undefined } {
  const app = new Hono();
  if (o.verbose) app.use(requestLog(o.role));
  // Open like a health check: Prometheus does not sign, and no key appears in it.
  app.get("/_kvdb/metrics", async (c) => c.body(await o.registry.exposition(), 200, { "content-type": EXPOSITION_TYPE }));
  return {
    app,
    mount(inner) {
      app.route("/", inner);
      app.onError(renderError);
      app.fetch = observed(o, app.fetch);
      return app;
    },
    direct: (d) => observedDirect(o, d),
  };
}
