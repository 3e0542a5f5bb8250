/** Bun: Bun.serve, and Bun.file for sendfile-backed responses. */
import type { Runtime } from "./types.ts";
import { fetchCall, fetchUpload } from "./fetch-client.ts";
import { webBody, webPath } from "./web-body.ts";

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

  async serve(app, { port, hostname }) {
    const server = Bun.serve({
      port,
      hostname,
      // Defaults are 128 MiB per body and a 10 s idle timeout: too small for 1 GiB values.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: 255,
      fetch(req, srv) {
        // A PUT's body may pause for long while a slow replica catches up.
        if (req.method === "PUT" || req.method === "POST") srv.timeout(req, 0);
        return app.fetch(req, srv);
      },
    });
    return {
      port: server.port,
      async close(graceMs = 10_000) {
        const timer = setTimeout(() => void server.stop(true), graceMs);
        await server.stop();
        clearTimeout(timer);
      },
    };
  },

  rawPath: webPath,
  body: webBody,

  sendFile(c, status, headers, slice) {
    const body = slice && c.req.method !== "HEAD" ? Bun.file(slice.path).slice(slice.start, slice.end + 1) : null;
    return new Response(body, { status, headers });
  },

  upload: fetchUpload,
  call: fetchCall,
};
