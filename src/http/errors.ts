/**
 * Error answers: a status and one plain-text line saying what went wrong. A handler
 * returns fail(…) or throws an HttpError (or a subclass carrying its status); the
 * app's onError renders it. Anything else is a 500 whose stack is kept as its cause.
 * What a failed answer said is remembered with it, for the error log (log.ts).
 */
import type { Context, ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { answerText, KvdbError, type ErrorKind } from "../errors.ts";

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Failure {
  message: string;
  /** The stack of an unexpected error. */
  cause?: string;
}

const failures = new WeakMap<Response, Failure>();

/** What a failed answer said, if fail() made it. */
export function failureOf(res: Response): Failure | undefined {
  return failures.get(res);
}

/** Remembers what a failed answer said (for an answer not made by fail(), such as S3's XML). */
export function noteFailure(res: Response, failure: Failure): Response {
  failures.set(res, failure);
  return res;
}

const utf8 = new TextEncoder();

export function fail(c: Context, status: ContentfulStatusCode, message: string, cause?: string): Response {
  // Declared, so a runtime that meters streams (runtime/stream-meter.ts) need not stream it.
  const line = utf8.encode(`${message}\n`);
  const res = c.body(line, status, { "content-type": "text/plain; charset=UTF-8", "content-length": String(line.byteLength) });
  return noteFailure(res, { message, cause });
}

/** The curl API's (and the volume API's) status for each kind of domain error (src/errors.ts). */
export const STATUS_OF: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  "not-found": 404,
  exists: 409,
  busy: 503,
  gone: 404,
  unavailable: 503,
  full: 507,
  "too-large": 413,
  "length-required": 411,
  aborted: 400,
};

/** The onError of each app. */
export const renderError: ErrorHandler = (e, c) => {
  if (e instanceof HttpError) return fail(c, e.status, answerText(e));
  if (e instanceof KvdbError) {
    if (e.kind === "busy") c.header("retry-after", "1"); // what it waited for is likely over by then
    return fail(c, STATUS_OF[e.kind], answerText(e));
  }
  return fail(c, 500, `internal error: ${e.message}`, e.stack);
};
