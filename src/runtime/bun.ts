/** Bun: Bun.serve, and Bun.file for sendfile-backed responses. */
import { CLOSE_GRACE_MS, IDLE_TIMEOUT_MS, type Runtime } from "./types.ts";
import { fetchCall } from "./fetch-client.ts";

interface BunServer {
  port: number;
  stop(force?: boolean): Promise<void>;
  timeout(req: Request, seconds: number): void;
}
interface BunFile extends Blob {
  slice(start: number, end: number): BunFile;
}
declare const Bun: {
  serve(options: {
    port: number;
    hostname: string;
    fetch(req: Request, server: BunServer): Response | Promise<Response>;
    maxRequestBodySize: number;
    idleTimeout: number;
  }): BunServer;
  file(path: string): BunFile;
};

export const bun: Runtime = {
  name: "bun",

  async serve(app, { port, hostname, idleTimeoutMs = IDLE_TIMEOUT_MS }) {
    // Bun's idle timeout (seconds, at most 255; default 10) also covers headers trickled in.
    // It stays longer than a master's volume timeout: a PUT paced by a slow replica is not idle long.
    const idleTimeout = Math.max(1, Math.min(255, Math.ceil(idleTimeoutMs / 1000)));
    const server = Bun.serve({
      port,
      hostname,
      // The default is 128 MiB per body: too small for 1 GiB values (--max-size limits it).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout,
      fetch: app.fetch, // hono's fetch gets Bun's server as its env
    });
    return {
      port: server.port,
      async close() {
        const timer = setTimeout(() => void server.stop(true), CLOSE_GRACE_MS);
        await server.stop();
        clearTimeout(timer);
      },
    };
  },

  sendFile(c, status, headers, slice) {
    const body = slice && c.req.method !== "HEAD" ? Bun.file(slice.path).slice(slice.start, slice.end + 1) : null;
    return new Response(body, { status, headers });
  },

  call: fetchCall,
};
