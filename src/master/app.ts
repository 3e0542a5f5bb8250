/**
 * The master's HTTP app: the public API, and its own /_kvdb/ endpoints mounted beside
 * it; the reads the runtime adapter may answer before it (read.ts, readDirect); and
 * the counter of its requests, the app's and those alike (runtime/fast-path.ts).
 */
import type { Hono } from "hono";
import { serverApp } from "../http/server-app.ts";
import { requestCounter } from "../observe/request-metrics.ts";
import type { Direct, RequestCounter } from "../runtime/fast-path.ts";
import { keysApp } from "./api.ts";
import { directSteps } from "./direct-write.ts";
import { MASTER_STEP } from "../wire/direct-wire.ts";
import { jobsApp } from "./jobs/routes.ts";
import type { Master } from "./master.ts";
import { readDirect } from "./read.ts";
import { statusApp } from "./status/routes.ts";
import type { Access } from "../auth/access.ts";
import { curlGuard, guardedDirect } from "../auth/curl-guard.ts";
import { keyRoutes } from "../auth/key-routes.ts";

/** `metricsPublic`: /_kvdb/metrics needs no key (--metrics-public). */
export function masterApp(m: Master, verbose: boolean, access?: Access, metricsPublic = false): { app: Hono; direct?: Direct; counter: RequestCounter } {
  // The door lets everything in while no key exists, and checks from the first one on (auth/access.ts).
  const guard = access && curlGuard(access, m.secret !== undefined, metricsPublic);
  const { app, mount } = serverApp({ role: "master", verbose, registry: m.stats.registry, guard });
  app.get("/_kvdb/volumes", (c) => c.json(m.volumes.all));
  app.route("/_kvdb/jobs", jobsApp(m.jobs, m.secret));
  if (access) app.route("/_kvdb/keys", keyRoutes(access));
  app.route(MASTER_STEP, directSteps(m));
  app.route("/", statusApp(m));
  // With --verbose every request goes through the app, which logs it; an index that
  // reads through a promise (PostgreSQL) leaves every read to the app.
  // With authentication a read goes fast only through the door's own check (auth/curl-guard.ts).
  const read: Direct = (_method, target) => readDirect(m, target);
  const direct: Direct | undefined = verbose || !m.index.readsAtOnce ? undefined : access ? guardedDirect(access, read) : read;
  return { app: mount(keysApp(m)), direct, counter: requestCounter("master", m.stats.requests) };
}
