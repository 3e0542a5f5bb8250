/**
 * The load generator's own ceiling: a node:http server that does no work at all.
 * PUT/POST → 201, DELETE → 204, GET of a key under /missing/ → 404, any other GET →
 * 302 to itself. `kvdb bench --workload redirect,missing` against it measures how
 * many requests per second the client side (and the shared cores) allow.
 * Prints "port=N" once listening.
 */
import { createServer } from "node:http";

const server = createServer((req, res) => {
  req.resume();
  const m = req.method;
  const status = m === "PUT" || m === "POST" ? 201 : m === "DELETE" ? 204 : req.url?.includes("/missing/") ? 404 : 302;
  const headers: Record<string, string> = { "content-length": "0" };
  if (status === 302) headers.location = `http://127.0.0.1:${port()}/blob`;
  req.on("end", () => {
    res.writeHead(status, headers);
    res.end();
  });
});
const port = () => (server.address() as { port: number }).port;
server.listen(0, "127.0.0.1", () => console.log(`port=${port()}`));
process.on("SIGTERM", () => process.exit(0));
