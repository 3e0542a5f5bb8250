/**
 * The public API (minikeyvalue-compatible): a key is the request path.
 *   GET|HEAD /key → read.ts      PUT|POST /key → write.ts     DELETE|UNLINK /key → remove.ts
 *   GET /prefix?list, GET /?unlinked → list.ts
 */
import { Hono } from "hono";
import { fail } from "../http/errors.ts";
import { rawPath } from "../runtime/request.ts";
import { parseKey } from "../keys/keys.ts";
import { list } from "./list.ts";
import type { Master } from "./master.ts";
import { read } from "./read.ts";
import { remove, unlink } from "./remove.ts";
import { write } from "./write.ts";

export function keysApp(m: Master): Hono {
  const app = new Hono();
  // Not async: a GET answered from the index stays synchronous (read.ts).
  app.all("*", (c) => {
    const method = c.req.method;
    const raw = rawPath(c);
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
  return app;
}
