/**
 * What kvdb needs from the runtime it runs on. Each of node.ts, bun.ts and deno.ts
 * implements it with that runtime's fastest primitive (docs/RUNTIMES.md says why); the rest of
 * the code never asks which runtime it is on.
 */
import type { Context, Hono } from "hono";
import type { Direct, RequestCounter } from "./fast-path.ts";
import type { TlsFiles } from "./tls.ts";

export interface Listener {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Stops accepting, lets in-flight requests finish (at most CLOSE_GRACE_MS), then closes. */
  close(): Promise<void>;
}

export interface ServeOptions {
  port: number;
  hostname: string;
  /**
   * A connection on which nothing moves (no byte read or written) this long is closed:
   * an idle upload or a stalled download. Also bounds how long request headers may take
   * to arrive (at most 20 s): slow-loris. Default 60 s, longer than a master's volume timeout.
   */
  idleTimeoutMs?: number;
  /** GETs and HEADs answered before the app when they can be (fast-path.ts). */
  direct?: Direct;
  /** Counts every request, the app's and direct's alike (fast-path.ts). */
  counter: RequestCounter;
  /** Serve HTTPS with this certificate, read again on SIGHUP (tls.ts). */
  tls?: TlsFiles;
}

export const IDLE_TIMEOUT_MS = 60_000;
/** How long a closing server waits for in-flight requests. */
export const CLOSE_GRACE_MS = 10_000;
/** Request headers must be complete within this (or the idle timeout if shorter). */
export const HEADERS_TIMEOUT_MS = 20_000;

export interface CallInit {
  method?: string;
  headers?: Record<string, string>;
  /** A small request body, whole (a value's bytes go through wire/outgoing-body.ts, streamed). */
  body?: Uint8Array<ArrayBuffer>;
  timeoutMs: number;
}

export interface FileSlice {
  path: string;
  /** First and last byte offsets, inclusive. */
  start: number;
  end: number;
  /** The whole file's length, as the caller found it. */
  size: number;
}

export interface Runtime {
  name: "node" | "bun" | "deno";
  /**
   * Whether a chunked upload this runtime sends (wire/outgoing-body.ts) is read by a volume
   * as fast as one of declared length, so a direct write's md5 can follow it as a trailer.
   * Not Deno's: its node:http sends one that Deno volumes read at ~10 MB/s (docs/RUNTIMES.md).
   */
  chunkedUploads: boolean;
  serve(app: Hono, options: ServeOptions): Promise<Listener>;
  /**
   * A response that streams part of a file (zero-copy where the runtime can). A file gone
   * since the caller's stat throws KvdbError "not-found".
   */
  sendFile(c: Context, status: number, headers: Record<string, string>, slice: FileSlice | null): Response;
  /**
   * A request to another kvdb server (health, delete, proxied reads). It fails if no
   * answer starts within `timeoutMs`; a body being streamed back is not cut.
   * (On Node through node:http: its fetch would load a second HTTP client, ~12 MiB.)
   */
  call(url: string, init: CallInit): Promise<Response>;
  /**
   * Writes `chunks` at an fd's position, as node:fs's writev; resolves to the bytes
   * written, which may be fewer (a full disk). Deno's writev copies the chunks into a new
   * buffer first, ~5 ms of CPU per MB: there, one write per chunk (docs/RUNTIMES.md).
   */
  writev(fd: number, chunks: Uint8Array[]): Promise<number>;
}
