/** Error answers: a status and one plain-text line saying what went wrong. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export function fail(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.text(`${message}\n`, status);
}
