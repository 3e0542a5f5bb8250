/**
 * The bare Hono ceiling for the Node master: a Hono app on @hono/node-server that
 * answers a GET as the master answers a stored key, with no index, no middleware and no
 * work: a 302 with the master's headers (content-length 0, content-md5, etag,
 * key-volumes, location; src/master/read.ts), and a 404 for keys under /missing/ or
 * /nope; a PUT gets 201 and a DELETE 204 once their body is read (the redirect workload
 * stores its keys first). What the master adds to this on Node is its own cost.
 * Prints "port=N" once listening; exits on SIGTERM.
 *   node dist/node/bench/hono-server.js
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const MD5 = "5d41402abc4b2a76b9719d911017c592";
const VOLUMES = "127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003";

const app = new Hono();
app.get("*", (c) => {
  const path = c.req.path;
  if (path.includes("/missing/") || path.startsWith("/nope")) return c.body(null, 404, { "content-length": "0" });
  return c.body(null, 302, {
    "content-md5": MD5,
    etag: `"${MD5}"`,
    "key-volumes": VOLUMES,
    location: `http://127.0.0.1:3001${path}`,
    "content-length": "0",
  });
});

app.on(["PUT", "POST"], "*", async (c) => {
  await c.req.arrayBuffer(); // the workload's values are 1 KiB
  return c.body(null, 201, { "content-length": "0" });
});
app.delete("*", (c) => c.body(null, 204));

serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => console.log(`port=${info.port}`));
process.on("SIGTERM", () => process.exit(0));
