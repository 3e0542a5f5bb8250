/**
 * Who may do what on the curl API (issue 26): the credentials a request carries
 * (`Authorization: Bearer ID.SECRET`, `curl -u ID:SECRET`'s Basic, or a SigV4 signature:
 * checkSigned), checked against
 * the keys in the index (key-store.ts) and their grants (keys.ts). Authentication is on
 * once the index holds a key, seen within KEY_CACHE_MS of the first one's making, without a
 * restart, and stays on; `--allow-anonymous read` lets requests without credentials read,
 * `--allow-anonymous` (all) lets them do everything.
 */
import type { Context } from "hono";
import type { AuthFailures, Reason } from "./failures.ts";
import type { Anonymous } from "./exposure.ts";
import { KEY_CACHE_MS, type KeyStore } from "./key-store.ts";
import { allows, sameSecret, type ClientKey, type Level } from "./keys.ts";

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
  if (scheme === "bearer") return pairOf(value, ".");
  if (scheme === "basic") return pairOf(Buffer.from(value, "base64").toString("utf8"), ":");
  return "malformed";
}

/** `ID<sep>SECRET`, both non-empty and `sep` once: the check of every request, so found without splitting into an array. */
function pairOf(text: string, sep: string): { id: string; secret: string } | "malformed" {
  const at = text.indexOf(sep);
  if (at <= 0 || at === text.length - 1 || text.includes(sep, at + 1)) return "malformed";
  return { id: text.slice(0, at), secret: text.slice(at + 1) };
}

/**
 * Checks a request signed with SigV4 (s3/curl-sigv4.ts, S3's verifier): the key it was
 * signed with, or why it was refused (`message`: what to tell the client, else the
 * answer of a wrong secret).
 */
export type SignedCheck = (c: Context, store: KeyStore) => Promise<{ id: string; key: ClientKey } | { id: string; reason: Reason; message?: string }>;

/** Whether a request is signed with SigV4, in its Authorization header or as a presigned URL. */
export function signedWithSigV4(header: string | undefined, url: string): boolean {
  return header?.startsWith("AWS4-HMAC-SHA256 ") || (header === undefined && /[?&]X-Amz-Signature=/.test(url));
}

/** The HTTP status of each refusal. */
const STATUS: Record<Reason, Refusal["status"]> = { malformed: 400, missing: 401, "unknown-key": 401, "bad-secret": 401, expired: 401, "no-grant": 403 };

/** One answer for an unknown key and a wrong secret. */
const wrongSecret = (id: string) => `unknown key or wrong secret: ${id}`;

/** What an unknown key's secret is compared with (a signature checked with), so that it takes its usual time. */
export const NO_SECRET = "x".repeat(40);

export class Access {
  /** When the index was last seen holding no key; authentication is on for good once it holds one. */
  private offSince: number | undefined;
  private looking: Promise<boolean> | undefined;

  /** `on`: the index holds a key (KeyStore.any). */
  constructor(
    readonly store: KeyStore,
    on: boolean,
    readonly anonymous: Anonymous | undefined,
    private readonly failures: AuthFailures,
    /** SigV4's check, when the master takes it (src/server.ts gives S3's). */
    private readonly signed?: SignedCheck,
  ) {
    this.offSince = on ? undefined : Date.now();
  }

  /** Whether authentication is on as last seen: undefined when the index was not looked at within KEY_CACHE_MS. */
  private known(now = Date.now()): boolean | undefined {
    if (this.offSince === undefined) return true;
    return now - this.offSince < KEY_CACHE_MS ? false : undefined;
  }

  /** Whether authentication is on, synchronously (the fast path); undefined while the index is being looked at again. */
  onAtOnce(now = Date.now()): boolean | undefined {
    const on = this.known(now);
    if (on === undefined) this.isOn().catch(() => {}); // for the next request; the app's own look reports a failure
    return on;
  }

  /** Whether authentication is on: the index is looked at again when the last look is older than KEY_CACHE_MS. */
  async isOn(): Promise<boolean> {
    const on = this.known();
    if (on !== undefined) return on;
    this.looking ??= this.store
      .any()
      .then((any) => {
        this.offSince = any ? undefined : Date.now();
        return any;
      })
      .finally(() => {
        this.looking = undefined;
      });
    return this.looking;
  }

  /** The first key was made through this master: authentication is on here at once. */
  turnOn(): void {
    this.offSince = undefined;
  }

  /** Whether a request without credentials may do `level`, authentication on. */
  private anonymousMay(level: Level): boolean {
    return this.anonymous === "all" || (this.anonymous === "read" && level === "read");
  }

  /**
   * Checks a request needing `level` on `key` (undefined: the whole store) with
   * authentication on; `found`: the key its credentials name (id), as the store has it.
   */
  private decide(header: string | undefined, level: Level, key: string | undefined, found: ClientKey | undefined, id: string | undefined): Refusal | "allowed" {
    const creds = credentialsOf(header);
    if (creds === "malformed") return this.refuse(400, "malformed", "malformed Authorization header: give Bearer ID.SECRET or Basic (curl -u ID:SECRET)", id);
    if (!creds) return this.anonymousMay(level) ? "allowed" : this.refuse(401, "missing", "authentication required: send Authorization: Bearer ID.SECRET (kvdb keys create)");
    // One answer for an unknown key and a wrong secret, after the same comparison: no oracle of which ids exist.
    const right = sameSecret(found?.secret ?? NO_SECRET, creds.secret);
    if (!found || !right) return this.refuse(401, found ? "bad-secret" : "unknown-key", wrongSecret(creds.id), creds.id);
    return this.granted(creds.id, found, level, key);
  }

  private granted(id: string, found: ClientKey, level: Level, key: string | undefined): Refusal | "allowed" {
    if (!allows(found.grants, level, key)) return this.refuse(403, "no-grant", `key ${id} has no ${level} grant on ${key === undefined ? "this endpoint" : JSON.stringify(key)}`, id);
    return "allowed";
  }

  /** check, for a request signed with SigV4 (signedWithSigV4). */
  async checkSigned(c: Context, level: Level, key: string | undefined): Promise<Refusal | "allowed"> {
    if (!(await this.isOn())) return "allowed";
    if (!this.signed) return this.refuse(400, "malformed", "this master takes no SigV4 signature: send Authorization: Bearer ID.SECRET");
    const r = await this.signed(c, this.store);
    if ("key" in r) return this.granted(r.id, r.key, level, key);
    const secretWrong = r.reason === "unknown-key" || r.reason === "bad-secret";
    return this.refuse(STATUS[r.reason], r.reason, secretWrong ? wrongSecret(r.id) : (r.message ?? r.reason), r.id);
  }

  /**
   * Whether a request is allowed from what is at hand (the key cache), synchronously and
   * without counting: the fast path answers it at once when true, else leaves it to the
   * app, whose check looks the key up and counts a refusal.
   */
  allowsAtOnce(header: string | undefined, level: Level, key: string | undefined): boolean {
    const now = Date.now(); // one clock reading for both caches
    const on = this.onAtOnce(now);
    if (on !== true) return on === false; // off: every request is let in, credentials or not
    const creds = credentialsOf(header);
    if (creds === "malformed") return false;
    if (!creds) return this.anonymousMay(level);
    const found = this.store.cached(creds.id, now);
    return found !== undefined && found !== "stale" && sameSecret(found.secret, creds.secret) && allows(found.grants, level, key);
  }

  /** decide, looking the key up in the store first; everything is allowed while authentication is off. */
  async check(header: string | undefined, level: Level, key: string | undefined): Promise<Refusal | "allowed"> {
    if (!(await this.isOn())) return "allowed";
    const creds = credentialsOf(header);
    const found = creds && creds !== "malformed" ? await this.store.get(creds.id) : undefined;
    return this.decide(header, level, key, found, creds && creds !== "malformed" ? creds.id : undefined);
  }

  private refuse(status: Refusal["status"], reason: Reason, message: string, id?: string): Refusal {
    this.failures.refused("master", reason, message, id);
    return { status, reason, message };
  }
}
