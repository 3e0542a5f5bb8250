/**
 * What a handler knows of a request beyond the web Request. A runtime adapter that has
 * better facts passes them in Hono's env (see runtime/node.ts): the path exactly as the
 * client sent it, and the body as the runtime's own stream. Without them (Bun, Deno,
 * or app.request() in a test) the web Request's own are used.
 */
import type { Context } from "hono";

export interface RequestFacts {
  /** The request path as sent, still percent-encoded, no dot-segment normalising. */
  rawPath?: string;
  /** The request body as chunks, without buffering it. */
  body?: AsyncIterable<Uint8Array> | null;
  /** The exchange as the wire saw it: body bytes each way and its real end (observe/request-metrics.ts). */
  meter?: ExchangeMeter;
}

/**
 * What an adapter counts of one request and its answer on the wire (runtime/node-meter.ts,
 * runtime/stream-meter.ts): every body, chunked or streamed, not only declared lengths.
 */
export interface ExchangeMeter {
  /** Request body bytes received so far (after de-chunking). */
  readonly receivedBytes: number;
  /** Response body bytes handed to the connection so far. */
  readonly sentBytes: number;
  /** Calls `done` once, when the answer's last byte is written or the connection closed (several may wait). */
  whenDone(done: () => void): void;
}

export function rawPath(c: Context): string {
  return (c.env as RequestFacts | undefined)?.rawPath ?? c.req.path;
}

/**
 * The request's trailers, to be read once its body has ended; undefined where the
 * runtime gives none: Node's and Bun's node:http do (IncomingMessage.trailers, the body
 * the adapter hands over), Deno.serve's web Request does not.
 */
export function requestTrailers(c: Context): (() => Record<string, string | undefined>) | undefined {
  const body = requestBody(c) as { trailers?: Record<string, string> } | null;
  return body && typeof body.trailers === "object" ? () => body.trailers! : undefined;
}

export function requestBody(c: Context): AsyncIterable<Uint8Array> | null {
  const facts = c.env as RequestFacts | undefined;
  return facts?.body !== undefined ? facts.body : (c.req.raw.body as AsyncIterable<Uint8Array> | null);
}
