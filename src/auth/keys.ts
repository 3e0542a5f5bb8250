/**
 * Client keys (issue 26): an access key id, its secret, a name and grants. A grant is a
 * level (read < write < admin) on everything or on the keys under a prefix (on S3: a
 * bucket), or monitor (the status page and metrics, on everything; admin includes it). The secret is stored as it is: SigV4 signs with HMAC keys derived from the
 * secret itself per date, region and service, so a verifier needs the secret (or every
 * future day's derived key); a hash would only serve bearer tokens. The index holding
 * the keys must be guarded like a password file (docs/SECURITY.md).
 */
import { randomBytes } from "node:crypto";

export type Level = "read" | "write" | "admin" | "monitor";
export const LEVELS: readonly Level[] = ["read", "write", "admin", "monitor"];

/** Whether a grant of `have` covers `need`: write includes read, admin everything; monitor (the status page, metrics) nothing else. */
const covers = (have: Level, need: Level) => have === need || have === "admin" || (have === "write" && need === "read");

export interface Grant {
  level: Level;
  /** Keys starting with it (a bucket on S3: "bucket/"); absent: every key. */
  prefix?: string;
}

/** A key as the index holds it (table "credentials", id: the access key id). */
export interface ClientKey {
  name: string;
  secret: string;
  grants: Grant[];
  created: string;
}

/** `read`, `write:logs/`, `admin`…: a grant as `--grant` gives it; undefined if malformed. */
export function parseGrant(text: string): Grant | undefined {
  const colon = text.indexOf(":");
  const level = (colon < 0 ? text : text.slice(0, colon)) as Level;
  const prefix = colon < 0 ? undefined : text.slice(colon + 1);
  if (!LEVELS.includes(level) || prefix === "" || (level === "monitor" && prefix !== undefined)) return undefined;
  return prefix === undefined ? { level } : { level, prefix };
}

export const grantText = (g: Grant) => (g.prefix === undefined ? g.level : `${g.level}:${g.prefix}`);

/** Whether `grants` allow `level` on `key` (no leading slash); key undefined: the whole store (admin endpoints). */
export function allows(grants: readonly Grant[], level: Level, key?: string): boolean {
  return grants.some((g) => covers(g.level, level) && (g.prefix === undefined || (key !== undefined && key.startsWith(g.prefix))));
}

/** A fresh key: id KVDB + 16 hex digits (AWS-like), a 40-character secret. */
export function newClientKey(name: string, grants: Grant[]): { id: string; key: ClientKey } {
  const id = `KVDB${randomBytes(8).toString("hex").toUpperCase()}`;
  return { id, key: { name, secret: randomBytes(30).toString("base64url"), grants, created: new Date().toISOString() } };
}

/** The bearer token of a key: `ID.SECRET` (neither contains a dot). */
export const tokenOf = (id: string, secret: string) => `${id}.${secret}`;

/**
 * Compares two secrets in time independent of where they differ: every UTF-16 unit is
 * looked at, whatever the first difference. Without copying them into Buffers for
 * timingSafeEqual, which cost ~0.5 µs per request under Bun (docs/PERFORMANCE.md,
 * "The master's small requests: profile").
 */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let differ = 0;
  for (let i = 0; i < a.length; i++) differ |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return differ === 0;
}
