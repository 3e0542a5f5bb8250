/**
 * The master's HTTP app: the public API, and its own /_kvdb/ endpoints mounted beside
 * it; and the reads the runtime adapter may answer before it (read.ts, readDirect).
 */
import { Hono } from "hono";
import { serverApp } from "../http/server-app.ts";
import type { Direct } from "../runtime/types.ts";
import { keysApp } from "./api.ts";
import { directSteps } from "./direct-write.ts";
import { MASTER_STEP } from "../wire/direct-wire.ts";
import { jobsApp } from "./jobs/routes.ts";
import type { Master } from "./master.ts";
import { readDirect } from "./read.ts";
import { statusApp } from "./status/routes.ts";

export function masterApp(m: Master, verbose: boolean): { app: Hono; direct?: Direct } {
  const { app, mount, direct } = serverApp({ role: "master", verbose, registry: m.stats.registry, requests: m.stats.requests });
  app.get("/_kvdb/volumes", (c) => c.json(m.volumes.all));
  app.route("/_kvdb/jobs", jobsApp(m.jobs, m.secret));
  app.route(MASTER_STEP, directSteps(m));
  app.route("/", statusApp(m));
  // An index that reads through a promise (PostgreSQL) leaves every read to the app.
  return { app: mount(keysApp(m)), direct: m.index.readsAtOnce ? direct((_method, target) => readDirect(m, target)) : undefined };
}
