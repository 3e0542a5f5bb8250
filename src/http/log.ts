/** The one start line each server prints, and --verbose request lines. */
import type { MiddlewareHandler } from "hono";

export function announce(role: string, fields: Record<string, string | number>): void {
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  console.log(`kvdb ${role} ${rest}`);
}

/** Without a secret kvdb still runs (as minikeyvalue does), but says what that means. */
export function warnNoSecret(role: string): void {
  console.error(`kvdb ${role}: warning: no --secret (KVDB_SECRET): volumes accept writes and deletes from anyone who can reach them`);
}

/** One line per request: method, key, status, bytes, ms. */
export function requestLog(role: string): MiddlewareHandler {
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    const ms = (performance.now() - t0).toFixed(1);
    // Bytes of the body that carried the value: the request's for an upload, else the response's.
    const upload = c.req.method === "PUT" || c.req.method === "POST";
    const bytes = (upload ? c.req.header("content-length") : c.res.headers.get("content-length")) ?? "-";
    console.log(`${role} ${c.req.method} ${c.req.path} ${c.res.status} ${bytes} ${ms}ms`);
  };
}
