/**
 * The bare Hono ceiling for the Node master: a Hono app on @hono/node-server that
 * answers a GET as the master answers a stored key, with no index, no middleware and no
 * other work: a 302 with the master's headers (content-length 0, content-md5, etag,
 * key-volumes, location; src/master/read.ts), or a 404 for a key never stored. A PUT
 * gets 201 once its body is read, its md5 kept in a Map (the load generator checks the
 * 302's Content-Md5); a DELETE 204. What the master adds to this on Node is its own cost.
 * Prints "port=N" once listening; exits on SIGTERM.
 *   node dist/node/bench/hono-server.js
 */
import { createHash } from "node:crypto";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const VOLUMES = "127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003";
const md5s = new Map<string, string>();

const app = new Hono();
app.get("*", (c) => {
  const path = c.req.path;
  const md5 = md5s.get(path);
  if (!md5) return c.body(null, 404, { "content-length": "0" });
  return c.body(null, 302, {
    "content-md5": md5,
    etag: `"${md5}"`,
    "key-volumes": VOLUMES,
    location: `http://127.0.0.1:3001${path}`,
    "content-length": "0",
  });
});
app.on(["PUT", "POST"], "*", async (c) => {
  // The load generator's values here are 1 KiB.
  md5s.set(c.req.path, createHash("md5").update(new Uint8Array(await c.req.arrayBuffer())).digest("hex"));
  return c.body(null, 201, { "content-length": "0" });
});
app.delete("*", (c) => c.body(null, md5s.delete(c.req.path) ? 204 : 404));

serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log(`port=${info.port}`));
process.on("SIGTERM", () => process.exit(0));
