/**
 * Errors in the domain's words. The index, the volume client and the master's write
 * and delete paths throw a KvdbError naming what happened (`kind`), never an HTTP
 * status; each API surface maps a kind to its own answer once: the curl API in
 * http/errors.ts (STATUS_OF), S3 in s3/errors.ts (an S3 code), the volume API in
 * volume/app.ts. A new kind is added here and to each of those maps.
 */
export type ErrorKind =
  /** The request itself is malformed (a bad key, a bad header, a digest that does not match). */
  | "invalid"
  /** No such key, entry or job. */
  | "not-found"
  /** The key exists already (values are immutable on the curl API). */
  | "exists"
  /** Another operation on the same key is in flight. */
  | "busy"
  /** Something a step needed went away meanwhile (an S3 bucket deleted during a write): nothing changed. */
  | "gone"
  /** A dependency is down or stalled: too few volumes up, the index unreachable, a volume that failed mid-write. */
  | "unavailable"
  /** Too few volumes have room for the value. */
  | "full"
  /** The value is larger than --max-size. */
  | "too-large"
  /** The body's length was needed and not declared. */
  | "length-required"
  /** The client went away or sent fewer bytes than it declared. */
  | "aborted";

export class KvdbError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isKvdbError(e: unknown, kind?: ErrorKind): e is KvdbError {
  return e instanceof KvdbError && (kind === undefined || e.kind === kind);
}

/** Failures of a write that left nothing stored: their answer says so. */
const storedNothing = new WeakSet<Error>();

/**
 * Marks `e` (a KvdbError, or an HttpError such as S3's) as the failure of a write that
 * left nothing stored; the answer then starts "nothing stored: " (answerText). The
 * write path marks, each API surface renders: the prefix is written only here.
 */
export function nothingStored<E extends Error>(e: E): E {
  storedNothing.add(e);
  return e;
}

/** What an error's answer says: its message, after "nothing stored: " if a write marked it so. */
export function answerText(e: Error): string {
  return storedNothing.has(e) ? `nothing stored: ${e.message}` : e.message;
}
