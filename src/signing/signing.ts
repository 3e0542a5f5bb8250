/**
 * Request signing with the shared secret (--secret / KVDB_SECRET), like a presigned
 * S3 URL: an HMAC-SHA256 over the method, the path, every other query parameter and
 * an expiry, carried as `expires` and `signature` query parameters. The secret itself
 * never goes over the wire, and a signed URL is good for one method on one path until
 * it expires.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { keyPath } from "../keys/keys.ts";
import { originOf } from "../wire/address.ts";
import { HmacSha256 } from "./hmac-sha256.ts";

/** Accepted past `expires`, so that a few seconds of clock skew between machines never break a URL. */
export const SKEW_SECONDS = 30;

/** HEAD is a GET without the body: one signature serves both. */
const methodClass = (method: string) => (method === "HEAD" ? "GET" : method);

function canonical(method: string, path: string, params: URLSearchParams): string {
  const rest = [...params].filter(([k]) => k !== "signature").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${methodClass(method)}\n${path}\n${new URLSearchParams(rest)}`;
}

/** One keyed HMAC per secret: a cluster has one, two during a rotation (tests make more). */
const macs = new Map<string, HmacSha256>();

function hmac(secret: string, text: string): string {
  let mac = macs.get(secret);
  if (!mac) {
    if (macs.size >= 16) macs.clear();
    macs.set(secret, (mac = new HmacSha256(secret)));
  }
  return mac.base64url(text);
}

/**
 * Signs `url` (absolute, its path still percent-encoded as it will be sent) for
 * `method`, valid for `ttlSeconds`. Returns the URL with `expires` and `signature` added.
 */
export function signUrl(secret: string, method: string, url: string, ttlSeconds: number, now = Date.now()): string {
  const u = new URL(url);
  return signed(secret, method, u.origin + u.pathname, decodeURIComponent(u.pathname), u.searchParams, ttlSeconds, now);
}

/** `base` (origin and encoded path of `path`) with `params`, `expires` and `signature`: both signers' last step. */
function signed(secret: string, method: string, base: string, path: string, params: URLSearchParams, ttlSeconds: number, now: number): string {
  params.set("expires", String(Math.floor(now / 1000) + ttlSeconds));
  params.set("signature", hmac(secret, canonical(method, path, params)));
  return `${base}?${params}`;
}

/**
 * What signUrl gives for `base` + `query` (`base`: an origin and the percent-encoded
 * form of `path`), built without parsing a URL: a signed redirect is the master's
 * hottest path, and `new URL` and its search params cost more than the HMAC there.
 */
export function signPath(
  secret: string,
  method: string,
  base: string,
  path: string,
  query: Record<string, string> | undefined,
  ttlSeconds: number,
  now = Date.now(),
): string {
  if (query) return signed(secret, method, base, path, new URLSearchParams(query), ttlSeconds, now);
  // The common case, a URL with no other parameter, without building any.
  const expires = String(Math.floor(now / 1000) + ttlSeconds);
  return `${base}?expires=${expires}&signature=${hmac(secret, `${methodClass(method)}\n${path}\nexpires=${expires}`)}`;
}

/**
 * The URL of `path` (a key or a /_kvdb/ path, decoded) on the server at `address`
 * (wire/address.ts: host:port, or https://host:port), good for `method`: signed with
 * `secret` for `ttlSeconds` if there is one, else plain.
 */
export function urlOn(address: string, path: string, method: string, secret: string | undefined, ttlSeconds: number, query?: Record<string, string>): string {
  const base = `${originOf(address)}${keyPath(path)}`;
  if (secret) return signPath(secret, method, base, path, query, ttlSeconds);
  return query ? `${base}?${new URLSearchParams(query)}` : base;
}

export type Verdict = "valid" | "unsigned" | "expired" | "invalid";

/** Checks a request's signature; `path` is the decoded path the request names. */
export function verifyRequest(secret: string, method: string, path: string, params: URLSearchParams, now = Date.now()): Verdict {
  const signature = params.get("signature");
  const expires = Number(params.get("expires"));
  if (signature === null) return "unsigned";
  if (!Number.isSafeInteger(expires)) return "invalid";
  const want = Buffer.from(hmac(secret, canonical(method, path, params)));
  const got = Buffer.from(signature);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return "invalid";
  return expires + SKEW_SECONDS < now / 1000 ? "expired" : "valid";
}

/** A fresh secret, for `kvdb server`, which runs its own volumes. */
export function newSecret(): string {
  return randomBytes(32).toString("base64url");
}
