/** Node: @hono/node-server (over node:https with --tls-cert), raw sockets for the big byte paths. */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from "node:http";
import { createServer as createSecureServer } from "node:https";
import type { AddressInfo } from "node:net";
import { openSync, writev } from "node:fs";
import { Readable, type Duplex } from "node:stream";
import { createAdaptorServer } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import { callRequest } from "./keep-alive.ts";
import { KvdbError } from "../errors.ts";
import { front, type Front } from "./fast-path.ts";
import type { RequestFacts } from "./request.ts";
import { MeteredIncoming, MeteredResponse } from "./node-meter.ts";
import { sendSlice } from "./node-send.ts";
import { continueOnRead } from "./node-continue.ts";
import { onReload, readCertificate, type Certificate } from "./tls.ts";
import { CLOSE_GRACE_MS, HEADERS_TIMEOUT_MS, IDLE_TIMEOUT_MS, type CallInit, type Runtime } from "./types.ts";

interface NodeEnv {
  incoming: MeteredIncoming;
  outgoing: MeteredResponse;
}
const env = (c: Context) => c.env as NodeEnv;

/** The path of a request target as Node read it off the wire. */
function pathOf(url = "/"): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function call(url: string, { method = "GET", headers = {}, body, timeoutMs }: CallInit): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = callRequest(url, method, headers, (res) => {
      req.setTimeout(0);
      const status = res.statusCode ?? 0;
      const bodyless = method === "HEAD" || status === 204 || status === 304;
      const out = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") out.set(k, v);
      if (bodyless) res.resume();
      resolve(new Response(bodyless ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, headers: out }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** `app` (@hono/node-server's listener) behind `direct`: what direct answers never becomes a web Request. */
function directFirst(direct: NonNullable<Front["direct"]>, app: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method;
    const answer = method === "GET" || method === "HEAD" ? direct(method, req.url ?? "/", res as MeteredResponse, req.headers.authorization) : undefined;
    if (answer) res.writeHead(answer.status, answer.headers).end();
    else app(req, res);
  };
}

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
};

/**
 * Node's default answer to bytes it cannot parse, except for bytes that follow a complete
 * request still being handled (garbage pipelined after a PUT's body): Node would answer
 * that request 400 while the handler goes on to store it. It gets its own answer instead.
 */
function clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const res = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (res && res.req?.complete && !res.writableFinished) {
    res.shouldKeepAlive = false;
    res.once("close", () => socket.destroy());
    return;
  }
  if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) {
    socket.write(`HTTP/1.1 ${CLIENT_ERRORS[err.code ?? ""] ?? "400 Bad Request"}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy(err);
}

/** Stops accepting; resolves once its last connection has ended. */
function stopAccepting(server: Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

/**
 * Stops accepting (unless `stopped` says it did already), lets in-flight requests finish
 * (at most CLOSE_GRACE_MS), then closes.
 */
async function closeServer(server: Server, stopped = stopAccepting(server)): Promise<void> {
  const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  force.unref();
  // A keep-alive connection whose request ends after close() stays open until the
  // client drops it (Node's agent: 4-5 s), delaying the exit: close those as they go idle.
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  idle.unref();
  server.closeIdleConnections();
  await stopped;
  clearTimeout(force);
  clearInterval(idle);
}

function listen(server: Server, port: number, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export const node: Runtime = {
  name: "node",
  chunkedUploads: true,

  async serve(app, { port, hostname, idleTimeoutMs = IDLE_TIMEOUT_MS, direct, counter, tls }) {
    const served = front(app.fetch, direct, counter);
    const headersTimeout = Math.min(HEADERS_TIMEOUT_MS, idleTimeoutMs);
    /** A server for the app: node:https with `certificate`, else node:http. */
    const make = (certificate?: Certificate): Server => {
      const server = createAdaptorServer({
        // The raw path and body go to handlers as request facts (runtime/request.ts).
        fetch: (req, bindings) => {
          // One literal, no spread of the bindings: under Node 20 a spread followed by more
          // properties built a new hidden class per request (~4 µs; docs/PERFORMANCE.md,
          // "The master's small requests: profile").
          const { incoming, outgoing } = bindings as NodeEnv;
          const facts: RequestFacts & NodeEnv = { incoming, outgoing, rawPath: pathOf(incoming.url), body: incoming, meter: outgoing };
          return served.fetch(req, facts);
        },
        createServer: ((options: ServerOptions, listener: RequestListener) => {
          const handler = served.direct ? directFirst(served.direct, listener) : listener;
          const server = certificate ? (createSecureServer({ ...options, ...certificate }, handler) as unknown as Server) : createServer(options, handler);
          // Any Expect but 100-continue is ignored, as S3 ignores it (Node would answer 417).
          return continueOnRead(server, handler).on("checkExpectation", handler);
        }) as typeof createServer,
        // A 1 GiB upload over a slow link must not be cut at Node's 300 s default: only a
        // connection that goes idle is (below). Headers trickled in (slow-loris) get 408;
        // Node checks that deadline every connectionsCheckingInterval (default 30 s).
        serverOptions: {
          IncomingMessage: MeteredIncoming, // body bytes counted (node-meter.ts)
          ServerResponse: MeteredResponse as typeof ServerResponse,
          requestTimeout: 0,
          headersTimeout,
          keepAliveTimeout: 65_000,
          connectionsCheckingInterval: Math.min(1000, headersTimeout),
        },
      }) as Server;
      // Socket idle timeout: no 'timeout' listener, so Node destroys the socket.
      server.setTimeout(idleTimeoutMs);
      server.on("clientError", clientError);
      return server;
    };
    let server = make(tls && readCertificate(tls));
    const bound = await listen(server, port, hostname);
    /** Servers that stopped accepting at a reload (Bun), their connections still open. */
    const retired: { server: Server; stopped: Promise<void> }[] = [];
    const unregister = tls
      ? onReload(async () => {
          const certificate = readCertificate(tls);
          const secure = server as Server & { setSecureContext?(c: Certificate): void };
          // Node: new connections get the new certificate, open ones go on as they are.
          if (secure.setSecureContext) return secure.setSecureContext(certificate);
          // Bun's node:https has no setSecureContext: the old server stops accepting (its
          // open connections go on) and a new one listens on the port at once; a
          // connection attempt in between is refused (docs/SECURITY.md, "TLS").
          const fresh = make(certificate);
          const old = { server, stopped: stopAccepting(server) };
          retired.push(old);
          void old.stopped.then(() => retired.splice(retired.indexOf(old), 1));
          try {
            await listen(fresh, bound, hostname);
          } catch (e) {
            throw new Error(`the port ${bound} could not be listened on again, no new connection is taken: ${(e as Error).message}`);
          }
          server = fresh;
        })
      : () => {};
    return {
      port: bound,
      async close() {
        unregister();
        await Promise.all([closeServer(server), ...retired.map((r) => closeServer(r.server, r.stopped))]);
      },
    };
  },

  sendFile(c, status, headers, slice) {
    // No body: an ordinary Response. (Hono answers HEAD by re-wrapping the GET handler's
    // Response, which would lose RESPONSE_ALREADY_SENT and write the headers twice.)
    if (!slice || c.req.method === "HEAD") return new Response(null, { status, headers });
    // Opened before the answer starts, synchronously as the volume's stat was: a file
    // deleted since (a DELETE racing this GET) is still a plain 404, not a dropped connection.
    let fd: number;
    try {
      fd = openSync(slice.path, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KvdbError("not-found", "blob file missing");
      throw e;
    }
    const out = env(c).outgoing;
    out.writeHead(status, headers);
    sendSlice(out, fd, slice.path, slice.start, slice.end); // client gone or file failing: the socket is dropped
    return RESPONSE_ALREADY_SENT; // tells @hono/node-server the response is already on the wire
  },

  call,

  writev: (fd, chunks) => new Promise((resolve, reject) => writev(fd, chunks, (e, written) => (e ? reject(e) : resolve(written)))),
};
