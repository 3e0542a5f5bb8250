/**
 * The bench's HTTP client: node:http with a keep-alive Agent (Node, Bun and Deno all
 * have it). Not fetch: Node's fetch is several times slower per request and buffers
 * a streamed request body whole. Never throws: a network error or a stall is an
 * answer with status 0, so every loop counts it and goes on.
 */
import { createHash } from "node:crypto";
import { Agent, request, type ClientRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as SecureAgent, request as secureRequest } from "node:https";
import { trustedRoots } from "../runtime/tls.ts";
import type { Checker, Value } from "./data.ts";

export interface Reply {
  /** HTTP status, or 0 when no complete answer came (refused, reset, stalled). */
  status: number;
  headers: IncomingHttpHeaders;
  /** Body bytes received. */
  bytes: number;
  /** The start of the body (at most 300 characters) when it was not checked against a value: for error messages. */
  text: string;
  /** Network-level failure, when status is 0 or the body broke off. */
  error?: string;
  /** performance.now() when the last byte of the request was handed to the OS; the answer came after it. */
  sentAt?: number;
  /** performance.now() when the answer's head arrived. */
  answeredAt?: number;
}

export interface Call {
  method: string;
  url: URL;
  /** Upload this value with Content-Length (streamed with backpressure beyond 1 MiB). */
  body?: Value;
  /** Compare the response body with this checker (from the expected value). */
  check?: Checker;
  /** The request fails after this long without progress. */
  idleMs: number;
  /** Send `Expect: 100-continue` and the body only after `100 Continue` (an answer before it means no body is sent). */
  expectContinue?: boolean;
}

const ONE_WRITE = 1 << 20;

export class HttpClient {
  private agent: Agent;
  /** For https:// (a master or volumes serving TLS), trusting --tls-ca too, read before. */
  private secureAgent: SecureAgent;

  /** `auth`: an Authorization header for requests to `origin` (the master) only. */
  constructor(
    concurrency: number,
    private readonly auth?: { origin: string; authorization: string },
  ) {
    // One socket per worker and host: no request waits for a socket, none is opened twice.
    const pool = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
    this.agent = new Agent(pool);
    this.secureAgent = new SecureAgent({ ...pool, ca: trustedRoots() });
  }

  send(call: Call): Promise<Reply> {
    const { url, body, check } = call;
    return new Promise<Reply>((resolve) => {
      let settled = false;
      let answered = false;
      let bytes = 0;
      let text = "";
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      let sentAt: number | undefined;
      let answeredAt: number | undefined;
      const finish = (error?: string) => {
        if (settled) return;
        settled = true;
        resolve({ status: error && !answered ? 0 : status, headers, bytes, text, error, sentAt, answeredAt });
      };
      const secure = url.protocol === "https:";
      const req = (secure ? secureRequest : request)({
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || (secure ? 443 : 80),
        path: url.pathname + url.search,
        method: call.method,
        agent: secure ? this.secureAgent : this.agent,
        headers: {
          ...(body ? { "content-length": String(body.size), ...(call.expectContinue ? { expect: "100-continue" } : {}) } : {}),
          ...(this.auth && url.origin === this.auth.origin ? { authorization: this.auth.authorization } : {}),
        },
      });
      req.setTimeout(call.idleMs, () => req.destroy(new Error(`no progress for ${call.idleMs} ms`)));
      req.on("error", (e) => finish(e.message || String(e)));
      if (body) req.once("finish", () => (sentAt = performance.now()));
      req.on("response", (res) => {
        answered = true;
        answeredAt = performance.now();
        status = res.statusCode ?? 0;
        headers = res.headers;
        res.on("data", (d: Buffer) => {
          bytes += d.byteLength;
          if (check) check.update(d);
          else if (text.length < 300) text += d.toString("utf8", 0, Math.min(d.byteLength, 300));
        });
        res.on("end", () => {
          finish();
          // An answer before the whole upload went out leaves the connection in an unknown state.
          if (body && !req.writableFinished) req.destroy();
        });
        res.on("error", (e) => finish(e.message));
        res.on("aborted", () => finish("response aborted"));
      });
      const sendBody = () => {
        if (!body) req.end();
        else if (body.size <= ONE_WRITE) req.end(body.whole());
        else void this.stream(req, body, () => settled || answered || req.destroyed);
      };
      // Without 100 Continue no byte is sent; an answer before it ends the request, and the
      // unsent body leaves the connection unusable, so it is closed (res "end" above).
      if (body && call.expectContinue) req.once("continue", sendBody).flushHeaders();
      else sendBody();
    });
  }

  /** Writes `body` in chunks with backpressure until it is all sent or `stop()`; knows its md5 after. */
  private async stream(req: ClientRequest, body: Value, stop: () => boolean): Promise<void> {
    const hash = createHash("md5");
    for (const chunk of body.chunks()) {
      if (stop()) return;
      hash.update(chunk);
      if (!req.write(chunk)) {
        await new Promise<void>((wake) => {
          const go = () => {
            req.off("drain", go);
            req.off("close", go);
            req.off("response", go);
            wake();
          };
          req.on("drain", go);
          req.on("close", go);
          req.on("response", go);
        });
      }
    }
    body.knowMd5(hash.digest("hex"));
    req.end();
  }

  /** Closes the idle keep-alive sockets so the process can exit. */
  close(): void {
    this.agent.destroy();
  }
}
