/** The lines every server prints: its start line, warnings, --verbose request lines, 5xx answers. */
import type { MiddlewareHandler } from "hono";
import { failureOf } from "../http/errors.ts";
import { logLine } from "./logger.ts";
import type { RequestFacts } from "../runtime/request.ts";

/** The start line, "kvdb <role> url=… …", which scripts and tests wait for. */
export function announce(role: string, fields: Record<string, string | number>): void {
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  logLine("info", role, "started", fields, `kvdb ${role} ${rest}`);
}

/** Without a secret kvdb still runs (as minikeyvalue does), but says what that means. */
export function warnNoSecret(role: string): void {
  logLine("warn", role, "no --secret (KVDB_SECRET): volumes accept writes and deletes from anyone who can reach them");
}

/**
 * One line per request: method, key, status, bytes, ms — once its answer is sent, with
 * the bytes the wire carried where the runtime meters them (observe/request-metrics.ts).
 */
export function requestLog(role: string): MiddlewareHandler {
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    // Bytes of the body that carried the value: the request's for an upload, else the response's.
    const upload = c.req.method === "PUT" || c.req.method === "POST";
    const { method, path } = c.req;
    const status = c.res.status;
    const line = (bytes: string) => {
      const ms = Number((performance.now() - t0).toFixed(1));
      logLine("info", role, "request", { method, path, status, bytes, ms }, `${role} ${method} ${path} ${status} ${bytes} ${ms}ms`);
    };
    const meter = (c.env as RequestFacts | undefined)?.meter;
    if (meter) meter.whenDone(() => line(String(upload ? meter.receivedBytes : method === "HEAD" ? 0 : meter.sentBytes)));
    else line((upload ? c.req.header("content-length") : c.res.headers.get("content-length")) ?? "-");
  };
}

/** Logs an answer of 500 or more with its cause. */
export function logServerError(role: string, method: string, path: string, res: Response): void {
  const failure = failureOf(res);
  logLine("error", role, failure?.message ?? `answered ${res.status}`, { method, path, status: res.status, cause: failure?.cause });
}

/** Every answer of 500 or more is logged with its cause, --verbose or not. */
export function serverErrors(role: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status >= 500) logServerError(role, c.req.method, c.req.path, c.res);
  };
}
