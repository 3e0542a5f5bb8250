/**
 * The signature check in front of a volume (and of the master's /_kvdb/ job
 * endpoints). With a secret, writes, deletes and internal /_kvdb/ calls need a valid
 * signature (see signing.ts). Reads of values are open unless --private; a read that
 * carries a signature must carry a good one.
 */
import type { MiddlewareHandler } from "hono";
import { fail } from "../http/errors.ts";
import { RESERVED_PREFIX } from "../keys/keys.ts";
import { rawPath } from "../runtime/request.ts";
import { verifyRequest } from "./signing.ts";

/** `secrets`: the current one first; a previous one is accepted while a rotation is under way. */
export function requireSignature(secrets: string[], isPrivate: boolean): MiddlewareHandler {
  return async (c, next) => {
    let path: string;
    try {
      path = decodeURIComponent(rawPath(c));
    } catch {
      return fail(c, 400, "invalid percent-encoding or UTF-8 in path");
    }
    const q = c.req.url.indexOf("?");
    const params = new URLSearchParams(q < 0 ? "" : c.req.url.slice(q + 1));
    let verdict = verifyRequest(secrets[0], c.req.method, path, params);
    for (const old of secrets.slice(1)) if (verdict === "invalid") verdict = verifyRequest(old, c.req.method, path, params);
    const openRead = !isPrivate && (c.req.method === "GET" || c.req.method === "HEAD") && !path.startsWith(RESERVED_PREFIX);
    if (verdict === "valid" || (verdict === "unsigned" && openRead)) return next();
    return fail(c, 403, verdict === "unsigned" ? "this request must be signed with the cluster's secret" : `signature ${verdict}`);
  };
}
