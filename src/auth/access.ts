/**
 * Who may do what on the curl API (issue 26): the credentials a request carries
 * (`Authorization: Bearer ID.SECRET`, or `curl -u ID:SECRET`'s Basic), checked against
 * the keys in the index (key-store.ts) and their grants (keys.ts). Authentication is on
 * once the index holds a key; `--allow-anonymous read` lets requests without
 * credentials read, `--allow-anonymous` (all) lets them do everything.
 */
import type { Counter, Registry } from "../observe/metrics.ts";
import { logLine } from "../observe/logger.ts";
import type { Anonymous } from "./exposure.ts";
import type { KeyStore } from "./key-store.ts";
import { allows, sameSecret, type ClientKey, type Level } from "./keys.ts";

/** Why a request was refused; counted as kvdb_auth_failures_total{reason}. */
export type Reason = "malformed" | "missing" | "unknown-key" | "bad-secret" | "no-grant";

export interface Refusal {
  status: 400 | 401 | 403;
  reason: Reason;
  message: string;
}

/** The credentials of an Authorization header: none, an id and secret, or a malformed header. */
export function credentialsOf(header: string | undefined): { id: string; secret: string } | undefined | "malformed" {
  if (header === undefined || header === "") return undefined;
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  let pair: string[];
  if (scheme === "bearer") pair = value.split(".");
  else if (scheme === "basic") pair = Buffer.from(value, "base64").toString("utf8").split(":");
  else return "malformed";
  return pair.length === 2 && pair[0] && pair[1] ? { id: pair[0], secret: pair[1] } : "malformed";
}

export class Access {
  private readonly failures: Counter;

  /** `on`: the index held a key when this master started. */
  constructor(
    readonly store: KeyStore,
    readonly on: boolean,
    readonly anonymous: Anonymous | undefined,
    registry: Registry,
    private readonly role = "master",
  ) {
    this.failures = registry.counter("kvdb_auth_failures_total", "Requests refused at the door, by reason");
  }

  /** Whether a request without credentials may do `level`. */
  private anonymousMay(level: Level): boolean {
    return !this.on || this.anonymous === "all" || (this.anonymous === "read" && level === "read");
  }

  /**
   * Checks a request needing `level` on `key` (undefined: the whole store); a ClientKey
   * or "anonymous" when allowed. `lookup` is the store's: sync from its cache on the fast path.
   */
  decide(header: string | undefined, level: Level, key: string | undefined, found: ClientKey | undefined, id: string | undefined): Refusal | "allowed" {
    const creds = credentialsOf(header);
    if (creds === "malformed") return this.refuse(400, "malformed", "malformed Authorization header: give Bearer ID.SECRET or Basic (curl -u ID:SECRET)", id);
    if (!creds) return this.anonymousMay(level) ? "allowed" : this.refuse(401, "missing", "authentication required: send Authorization: Bearer ID.SECRET (kvdb keys create)");
    if (!found) return this.refuse(401, "unknown-key", `unknown key ${creds.id}`, creds.id);
    if (!sameSecret(found.secret, creds.secret)) return this.refuse(401, "bad-secret", `wrong secret for key ${creds.id}`, creds.id);
    if (!allows(found.grants, level, key)) return this.refuse(403, "no-grant", `key ${creds.id} has no ${level} grant on ${key === undefined ? "this endpoint" : JSON.stringify(key)}`, creds.id);
    return "allowed";
  }

  /**
   * Whether a request is allowed from what is at hand (the key cache), synchronously and
   * without counting: the fast path answers it at once when true, else leaves it to the
   * app, whose check looks the key up and counts a refusal.
   */
  allowsAtOnce(header: string | undefined, level: Level, key: string | undefined): boolean {
    const creds = credentialsOf(header);
    if (creds === "malformed") return false;
    if (!creds) return this.anonymousMay(level);
    const found = this.store.cached(creds.id);
    return found !== undefined && found !== "stale" && sameSecret(found.secret, creds.secret) && allows(found.grants, level, key);
  }

  /** decide, looking the key up in the store first. */
  async check(header: string | undefined, level: Level, key: string | undefined): Promise<Refusal | "allowed"> {
    const creds = credentialsOf(header);
    const found = creds && creds !== "malformed" ? await this.store.get(creds.id) : undefined;
    return this.decide(header, level, key, found, creds && creds !== "malformed" ? creds.id : undefined);
  }

  private refuse(status: Refusal["status"], reason: Reason, message: string, id?: string): Refusal {
    this.failures.inc({ reason });
    logLine("warn", this.role, `refused: ${message}`, { reason, key: id ?? "-" }); // the key id, never its secret
    return { status, reason, message };
  }
}
