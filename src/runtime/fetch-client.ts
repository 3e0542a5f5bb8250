/** Outgoing calls through `fetch`, for Bun and Deno (runtime.call). */
import type { CallInit } from "./types.ts";

/**
 * runtime.call for Bun and Deno: their fetch, with a deadline for the answer to start;
 * `trust` gives the runtime's own fetch option trusting --tls-ca (runtime/tls.ts), if any.
 */
export function fetchCall(trust: () => object | undefined) {
  return async (url: string, { method = "GET", headers = {}, body, timeoutMs }: CallInit): Promise<Response> => {
    const aborter = new AbortController();
    const timer = setTimeout(() => aborter.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    try {
      return await fetch(url, { method, headers, body, signal: aborter.signal, ...(url.startsWith("https:") ? trust() : undefined) });
    } catch (e) {
      // Deno says only "fetch failed"; why (a refused connection, an unknown issuer) is in its cause.
      const err = e as Error;
      const why = (err.cause as Error | undefined)?.message;
      if (why && !err.message.includes(why)) err.message += `: ${why}`;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}
