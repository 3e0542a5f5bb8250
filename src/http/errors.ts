/**
 * Error answers: a status and one plain-text line saying what went wrong. A handler
 * returns fail(…) or throws an HttpError (or a subclass carrying its status); the
 * app's onError renders it. Anything else is a 500, logged with its stack.
 */
import type { Context, ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message);
  }
}

export function fail(c: Context, status: ContentfulStatusCode, message: string): Response {
  return c.text(`${message}\n`, status);
}

/** The onError of each role's app. */
export function renderError(role: string): ErrorHandler {
  return (e, c) => {
    if (e instanceof HttpError) return fail(c, e.status, e.message);
    console.error(`${role}: ${c.req.method} ${c.req.path}: ${e.stack ?? e.message}`);
    return fail(c, 500, `internal error: ${e.message}`);
  };
}
