/** The master's HTTP app: the public API, and its own /_kvdb/ endpoints mounted beside it. */
import { Hono } from "hono";
import { renderError } from "../http/errors.ts";
import { requestLog } from "../http/log.ts";
import { keysApp } from "./api.ts";
import { jobsApp } from "./jobs/routes.ts";
import type { Master } from "./master.ts";

export function masterApp(m: Master, verbose: boolean): Hono {
  const app = new Hono();
  if (verbose) app.use(requestLog("master"));
  app.get("/_kvdb/volumes", (c) => c.json(m.volumes.all));
  app.route("/_kvdb/jobs", jobsApp(m.jobs, m.secret));
  app.route("/", keysApp(m));
  app.onError(renderError("master"));
  return app;
}
