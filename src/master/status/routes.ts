/**
 * The master's operator endpoints:
 *   GET /_kvdb/status        the status page (HTML, refreshes itself)
 *   GET /_kvdb/status.json   the same facts as JSON (facts.ts); `kvdb status` prints them
 *   GET /                    a browser (Accept: text/html) is sent to the status page;
 *                            ?list and ?unlinked go on to the key API
 */
import { Hono } from "hono";
import type { Master } from "../master.ts";
import { statusFacts } from "./facts.ts";
import { STATUS_PAGE } from "./page.ts";

export const STATUS_PATH = "/_kvdb/status";

export function statusApp(m: Master): Hono {
  const app = new Hono();
  app.get(STATUS_PATH, (c) => c.html(STATUS_PAGE, 200, { "cache-control": "no-store" }));
  app.get(`${STATUS_PATH}.json`, async (c) => c.json(await statusFacts(m), 200, { "cache-control": "no-store" }));
  app.get("/", async (c, next) => {
    const listing = c.req.query("list") !== undefined || c.req.query("unlinked") !== undefined;
    if (listing || !(c.req.header("accept") ?? "").includes("text/html")) return next();
    return c.redirect(STATUS_PATH, 302);
  });
  return app;
}
