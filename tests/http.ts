/**
 * Low-level HTTP helpers for tests: exact bytes on the wire (raw sockets), streamed
 * uploads whose timing the test controls, and looking at a volume's files.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { once } from "node:events";
import { request as plainRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as secureRequest } from "node:https";
import { connect as plainConnect } from "node:net";
import { connect as secureConnect } from "node:tls";
import { join, relative } from "node:path";
import { keyPath } from "../src/keys/keys.ts";

/** What every request made here (and by fetch, after carryToken) carries: a client key's Authorization, with authentication on. */
const always: Record<string, string> = {};

/**
 * From now on every request this process makes, by fetch and by the helpers here,
 * carries `Authorization: Bearer token` unless it names its own Authorization (an empty
 * one: none). For running a test file with authentication on (api-auth.test.ts).
 */
export function carryToken(token: string): void {
  always.authorization = `Bearer ${token}`;
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has("authorization")) headers.set("authorization", always.authorization);
    return original(input, { ...init, headers });
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Everything after the blank line, as received (not de-chunked). */
  body: Buffer;
  raw: Buffer;
}

/** host:port of a URL like http://127.0.0.1:1234 */
export function addr(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** node:http's request, or node:https's for an https:// `url` (api-tls.test.ts: the CA comes from NODE_EXTRA_CA_CERTS). */
const requestTo = (url: string, o: RequestOptions): ClientRequest => (url.startsWith("https:") ? secureRequest(o) : plainRequest(o));

/**
 * Sends `head` (request line + headers, no trailing blank line) and `body` over a
 * fresh socket with Connection: close, and reads until the server closes it.
 * Rejects if the server closes without a complete response head.
 */
export async function rawRequest(
  url: string,
  head: string,
  body: Buffer | string = "",
  timeoutMs = 5000,
  halfClose = false,
): Promise<RawResponse> {
  const { host, port } = addr(url);
  const sock = url.startsWith("https:") ? secureConnect({ host, port, servername: "localhost" }) : plainConnect({ host, port });
  await once(sock, url.startsWith("https:") ? "secureConnect" : "connect");
  const chunks: Buffer[] = [];
  sock.on("data", (d: Buffer) => chunks.push(d));
  const closed = new Promise<void>((resolve, reject) => {
    sock.once("close", () => resolve());
    sock.once("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" ? resolve() : reject(e)));
  });
  const timer = setTimeout(() => sock.destroy(new Error(`no answer in ${timeoutMs} ms to ${head.split("\r\n")[0]}`)), timeoutMs);
  const more = Object.entries(always)
    .filter(([name]) => !new RegExp(`\r\n${name}:`, "i").test(head)) // the head's own comes first
    .map(([name, value]) => `\r\n${name}: ${value}`)
    .join("");
  sock.write(`${head}${more}\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
  if (body.length) sock.write(body);
  // Half-close: the server sees the end of the stream right after `body`.
  if (halfClose) sock.end();
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
  return parseResponse(Buffer.concat(chunks));
}

export function parseResponse(raw: Buffer): RawResponse {
  const sep = raw.indexOf("\r\n\r\n");
  if (sep < 0) throw new Error(`no complete response head in ${JSON.stringify(raw.toString("latin1"))}`);
  const lines = raw.subarray(0, sep).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers, body: raw.subarray(sep + 4), raw };
}

/** A request through node:http with the path exactly as given (no URL normalising). */
export function send(
  url: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  const { host, port } = addr(url);
  return new Promise((resolve, reject) => {
    const req = requestTo(url, { host, port, path, method, headers: { ...always, ...headers }, agent: false }).once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * A PUT whose body the test writes piece by piece (node:http), so it can hold a
 * write open, race another request against it, then finish or abort it.
 */
export interface SlowPut {
  req: ClientRequest;
  write(chunk: Buffer | string): Promise<void>;
  /** Ends the body and resolves with the answer. */
  finish(last?: Buffer | string): Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>;
  /** Drops the connection mid-body. */
  abort(): void;
  /** Resolves with the answer whenever it comes (also before the body ends). */
  response: Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>;
}

export function slowPut(url: string, path: string, headers: Record<string, string> = {}, method = "PUT"): SlowPut {
  const { host, port } = addr(url);
  const req = requestTo(url, { host, port, path, method, headers: { ...always, ...headers }, agent: false });
  const response = new Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  response.catch(() => {}); // an aborted upload's rejection is expected
  return {
    req,
    response,
    async write(chunk) {
      if (!req.write(chunk)) await once(req, "drain");
    },
    finish(last) {
      req.end(last);
      return response;
    },
    abort() {
      req.destroy();
    },
  };
}

/** Every regular file under `dir`, relative to it ("" entries never; [] if dir is missing). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 16) throw new Error(`directory tree too deep at ${d}`);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else out.push(relative(dir, p));
    }
  };
  walk(dir, 0);
  return out.sort();
}

export const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");
export const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** The URL path of a key: each segment percent-encoded. */

/** Deterministic pseudo-random bytes (no two tests share a value by accident). */
export function bytes(n: number, seed = 1): Buffer<ArrayBuffer> {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Where the master says `key` lives: its answer (302 or not), Location and Key-Volumes; redirects not followed. */
export async function locate(master: string, key: string, method = "GET"): Promise<{ status: number; location: string; volumes: string[] }> {
  const res = await fetch(`${master}${keyPath(key)}`, { method, redirect: "manual" });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get("location") ?? "", volumes: (res.headers.get("key-volumes") ?? "").split(",").filter(Boolean) };
}

/**
 * The master's answer to a PUT of `size` bytes that waits for 100 Continue and never
 * sends a byte: a direct write's 307 (src/master/direct-write.ts), or what it said instead.
 */
export function askToWrite(master: string, key: string, size: number, headers: Record<string, string> = {}): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const { host, port } = addr(master);
    const req = requestTo(master, { host, port, path: keyPath(key), method: "PUT", headers: { ...always, "content-length": String(size), expect: "100-continue", ...headers } });
    req.on("continue", () => reject(new Error("the master sent 100 Continue")));
    req.on("response", (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        resolve({ status: res.statusCode!, location: res.headers.location, body });
        req.destroy();
      });
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}
