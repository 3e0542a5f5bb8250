/** The master's public HTTP API (SPEC §2), minikeyvalue-compatible. */
import { Hono } from "hono";
import { fail } from "../http/fail.ts";
import { parseKey } from "../keys/keys.ts";
import { requestLog } from "../http/log.ts";
import { runtime } from "../runtime/mod.ts";
import { list } from "./list.ts";
import { jobRoutes } from "./jobs.ts";
import type { Master } from "./master.ts";
import { read } from "./read.ts";
import { remove, unlink } from "./remove.ts";
import { write } from "./write.ts";

export function masterApp(m: Master, verbose: boolean): Hono {
  const app = new Hono();
  if (verbose) app.use(requestLog("master"));

  app.get("/_kvdb/volumes", (c) => c.json(m.volumes.all));
  jobRoutes(app, m); // POST /_kvdb/jobs/rebalance|verify, GET /_kvdb/jobs/<id>

  app.all("*", async (c) => {
    const method = c.req.method;
    const raw = runtime.rawPath(c);
    if ((method === "GET" || method === "HEAD") && (c.req.query("list") !== undefined || c.req.query("unlinked") !== undefined)) {
      let prefix: string;
      try {
        prefix = decodeURIComponent(raw);
      } catch {
        return fail(c, 400, "invalid percent-encoding or UTF-8 in prefix");
      }
      return list(m, c, prefix, c.req.query("list") !== undefined ? "live" : "unlinked");
    }
    const parsed = parseKey(raw);
    if ("error" in parsed) return fail(c, 400, parsed.error);
    const key = parsed.key;
    switch (method) {
      case "GET":
      case "HEAD":
        return read(m, c, key);
      case "PUT":
      case "POST":
        return write(m, c, key);
      case "DELETE":
        return remove(m, c, key);
      case "UNLINK":
        return unlink(m, c, key);
      default:
        c.header("allow", "GET, HEAD, PUT, POST, DELETE, UNLINK"); // a 405 must say what is allowed (RFC 9110)
        return fail(c, 405, `method ${method} not allowed`);
    }
  });

  app.onError((e, c) => {
    console.error(`master: ${c.req.method} ${c.req.path}: ${e.stack ?? e.message}`);
    return fail(c, 500, `internal error: ${e.message}`);
  });

  return app;
}
