/** Request bodies and raw paths as Bun and Deno hand them over (web streams). */
import type { Context } from "hono";

export function webBody(c: Context): AsyncIterable<Uint8Array> | null {
  return c.req.raw.body as AsyncIterable<Uint8Array> | null;
}

/** Bun and Deno give the URL already parsed; dot segments are gone by then. */
export function webPath(c: Context): string {
  return c.req.path;
}
