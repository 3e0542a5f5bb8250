/**
 * The outer app of every server: errors rendered and logged, GET /_kvdb/metrics,
 * --verbose request lines; the role's own routes inside. Its requests are counted by
 * the runtime adapter, with the counter each role's start passes it (runtime/fast-path.ts).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { renderError } from "./errors.ts";
import { logServerError, requestLog } from "../observe/log.ts";
import { EXPOSITION_TYPE, type Registry } from "../observe/metrics.ts";

export interface ServerAppOptions {
  role: string;
  verbose: boolean;
  registry: Registry;
  /** The master's door (auth/curl-guard.ts), before every route, metrics included. */
  guard?: MiddlewareHandler;
}

/** The path of a request's URL, for a log line. */
const pathOf = (url: string) => new URL(url).pathname;

/**
 * `fetch`, with each 5xx logged around it rather than by Hono middleware: an answer the
 * handler has at once then stays synchronous, Hono dispatches it without composing a
 * promise chain, and @hono/node-server writes it on its fast path (docs/PERFORMANCE.md,
 * "The Node master's redirects").
 */
function loggingServerErrors(role: string, fetch: Hono["fetch"]): Hono["fetch"] {
  return (req, env, ctx) => {
    const answered = (res: Response) => {
      if (res.status >= 500) logServerError(role, req.method, pathOf(req.url), res);
      return res;
    };
    const res = fetch(req, env, ctx);
    return res instanceof Promise ? res.then(answered) : answered(res);
  };
}

/** Wraps `inner` (mounted at /); routes added to the result before `mount` come first. */
export function serverApp(o: ServerAppOptions): { app: Hono; mount(inner: Hono): Hono } {
  const app = new Hono();
  if (o.verbose) app.use(requestLog(o.role));
  if (o.guard) app.use("*", o.guard);
  // Open like a health check unless the master's door asks for a monitor key: no key appears in it.
  app.get("/_kvdb/metrics", async (c) => c.body(await o.registry.exposition(), 200, { "content-type": EXPOSITION_TYPE }));
  return {
    app,
    mount(inner) {
      app.route("/", inner);
      app.onError(renderError);
      app.fetch = loggingServerErrors(o.role, app.fetch);
      return app;
    },
  };
}
