/** Outgoing calls through `fetch`, for Bun and Deno (runtime.call). */
import type { CallInit } from "./types.ts";

/** runtime.call for Bun and Deno: their fetch, with a deadline for the answer to start. */
export async function fetchCall(url: string, { method = "GET", headers = {}, body, timeoutMs }: CallInit): Promise<Response> {
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  try {
    return await fetch(url, { method, headers, body, signal: aborter.signal });
  } finally {
    clearTimeout(timer);
  }
}
