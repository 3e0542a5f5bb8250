/**
 * The curl API's door (issue 26): every request to a key, a listing or a job carries
 * credentials allowed to do what it asks (access.ts), else 400/401/403 with one line.
 * GET and HEAD need read on the key, other methods write, /_kvdb/jobs and /_kvdb/keys admin, the
 * status page and /_kvdb/metrics monitor (or admin; metrics none with --metrics-public). The rest
 * of /_kvdb/ is left to its own checks (volumes' calls signed with the cluster secret).
 */
import type { MiddlewareHandler } from "hono";
import { fail } from "../http/errors.ts";
import { rawPath } from "../runtime/request.ts";
import { decodePath } from "../keys/keys.ts";
import { signedWithSigV4, type Access } from "./access.ts";
import type { Direct } from "../runtime/fast-path.ts";
import type { Level } from "./keys.ts";

/** The operator endpoints a monitor grant opens (master/status/routes.ts, http/server-app.ts). */
const MONITORED = ["/_kvdb/status", "/_kvdb/status.json", "/_kvdb/metrics"];

/** The level and key a request needs; undefined: not this door's to check. `metricsPublic`: --metrics-public. */
export function needOf(method: string, raw: string, metricsPublic = false): { level: Level; key: string | undefined } | undefined {
  if (raw.startsWith("/_kvdb/jobs") || raw.startsWith("/_kvdb/keys")) return { level: "admin", key: undefined };
  if (MONITORED.includes(raw) && !(metricsPublic && raw === "/_kvdb/metrics")) return { level: "monitor", key: undefined };
  if (raw.startsWith("/_kvdb/")) return undefined;
  let key: string | undefined;
  try {
    key = decodePath(raw).slice(1);
  } catch {
    key = undefined; // a bad key: only a grant on everything lets it through, to its 400
  }
  return { level: method === "GET" || method === "HEAD" ? "read" : "write", key };
}

/** The fast path's door (runtime/fast-path.ts Direct): `direct` only for a request allowed at once. */
export function guardedDirect(access: Access, direct: Direct): Direct {
  return (method, target, authorization) => {
    const query = target.indexOf("?");
    const need = needOf(method, query < 0 ? target : target.slice(0, query));
    return !need || access.allowsAtOnce(authorization, need.level, need.key) ? direct(method, target) : undefined;
  };
}

export const CHALLENGE = 'Bearer realm="kvdb", Basic realm="kvdb"';

/**
 * `signedJobs`: the master has a cluster secret, so jobsApp checks a signed job call itself
 * (kvdb rebalance --secret); `metricsPublic`: /_kvdb/metrics is open (--metrics-public).
 */
export function curlGuard(access: Access, signedJobs: boolean, metricsPublic: boolean): MiddlewareHandler {
  return async (c, next) => {
    const need = needOf(c.req.method, rawPath(c), metricsPublic);
    if (!need || (need.level === "admin" && signedJobs && c.req.query("signature") !== undefined)) return next();
    const header = c.req.header("authorization");
    const verdict = signedWithSigV4(header, c.req.url) ? await access.checkSigned(c, need.level, need.key) : await access.check(header, need.level, need.key);
    if (verdict === "allowed") return next();
    if (verdict.status === 401) c.header("www-authenticate", CHALLENGE);
    return fail(c, verdict.status, verdict.message);
  };
}
