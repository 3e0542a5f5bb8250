/**
 * A history as the clients of a consistency run saw it (harness/jepsen/), and what each
 * answer means for the register model (register.ts) under the semantics the checker holds
 * the server to: SPEC.md's for the curl API (the looser readings stay as flags, so the
 * checker's own tests can show it tells the two apart), or S3's for objects (S3_OBJECTS).
 */

/** One PUT, GET or DELETE of one key, as a client saw it. Times are ms since the run began. */
export interface Recorded {
  id: number;
  client: number;
  key: string;
  /** The master that served it, for reading findings. */
  via: string;
  f: "put" | "get" | "delete";
  /** put: the value written; get: the value read (its Content-Md5, or S3's body, named it), when the answer had one. */
  value?: string;
  call: number;
  /** When the answer came; undefined when none came. */
  ret?: number;
  /**
   * The HTTP status, or why there is none: "timeout" (no answer in time), "lost" (sent,
   * then the connection failed), "refused" (the connection was refused: never sent).
   */
  status: number | "timeout" | "lost" | "refused";
}

/** One `GET /prefix?list`, as a client saw it; `keys` undefined when it failed. */
export interface Listed {
  id: number;
  client: number;
  via: string;
  prefix: string;
  call: number;
  ret?: number;
  keys?: string[];
}

/** What the checker holds the curl API to, where SPEC.md is stricter than the server once was (issue 24 part 1). */
export interface Semantics {
  /**
   * A 409 may mean "another write or delete of this key is in flight" as well as "exists"
   * (the server before issue 24; SPEC.md: a PUT gets 409 only when the key exists, a DELETE never).
   */
  conflictMayBeBusy: boolean;
  /**
   * A DELETE may answer 204 when it finished another operation's interrupted delete of a
   * key GETs already miss (the server before issue 24; SPEC.md: that DELETE is a 404).
   */
  deleteMayClaimInterrupted: boolean;
  /** A PUT answered 5xx stored nothing (README and SPEC.md: "5xx: nothing was stored"). */
  putFailureStoresNothing: boolean;
  /**
   * S3's objects instead of curl keys: a plain register. A PUT (200) always stores its
   * value, replacing the one before, whole (docs/S3.md, "Overwrites are atomic"); a
   * DELETE (204) leaves the key absent, whether or not it held a value; a 409
   * (OperationAborted: another write of the key won) changes nothing.
   */
  overwrites: boolean;
}

/** SPEC.md's semantics, which the server meets since issue 24 part 1 (src/master/in-flight.ts): what every run is held to. */
export const SPEC: Semantics = { conflictMayBeBusy: false, deleteMayClaimInterrupted: false, putFailureStoresNothing: true, overwrites: false };

/**
 * S3's objects (docs/CONSISTENCY.md): overwrites; a PutObject answered 5xx may have
 * stored its value (S3 promises nothing about it), and so may a DeleteObject have deleted.
 */
export const S3_OBJECTS: Semantics = { conflictMayBeBusy: false, deleteMayClaimInterrupted: false, putFailureStoresNothing: false, overwrites: true };

/**
 * An operation as the model sees it: `ret` is Infinity for one that may or may not have
 * taken effect (indeterminate); `does` is what the answer says happened.
 */
export interface ModelOp {
  call: number;
  ret: number;
  does: Does;
  /** put: the value written; read: the value read (undefined: absent). */
  value?: string;
  /** The operation it comes from. */
  from: Recorded;
}

export type Does =
  | "created" // PUT 201
  | "written" // S3 PUT 200: the value replaces whatever the key held
  | "refused" // PUT 409: the key exists
  | "refused-or-busy" // PUT or DELETE 409 where a 409 may also mean "in flight"
  | "put?" // a PUT that may or may not have stored its value
  | "read" // GET 302 (value) or 404 (absent)
  | "deleted" // DELETE 204 or 202
  | "delete-missed" // DELETE 404
  | "delete?"; // a DELETE that may or may not have happened

/** Whether a client got no answer: the operation may or may not have taken effect. */
const unanswered = (r: Recorded) => r.status === "timeout" || r.status === "lost";
const failed = (r: Recorded) => typeof r.status === "number" && r.status >= 500;

/**
 * What `r` means for the model, or undefined for an operation that says nothing: a read
 * that failed, a request never sent, a PUT whose 5xx promises nothing was stored. An
 * answer the semantics allow in no state (unexpected()) is undefined too: the caller
 * reports it on its own, so that the search looks past it for anomalies of the others.
 */
export function interpret(r: Recorded, s: Semantics): ModelOp | undefined {
  const op = (does: Does, value = r.value, ret = r.ret ?? Infinity): ModelOp => ({ call: r.call, ret, does, value, from: r });
  if (r.status === "refused") return undefined;
  if (s.overwrites) return objectOp(r, op);
  const conflict = r.status === 409 && s.conflictMayBeBusy ? op("refused-or-busy") : undefined;
  switch (r.f) {
    case "get":
      return r.status === 302 || r.status === 200 ? op("read") : r.status === 404 ? op("read", undefined) : undefined;
    case "put":
      if (r.status === 201) return op("created");
      if (r.status === 409) return conflict ?? op("refused");
      if (unanswered(r) || (failed(r) && !s.putFailureStoresNothing)) return op("put?", r.value, Infinity);
      return undefined;
    case "delete":
      if (r.status === 204 || r.status === 202) return op("deleted");
      if (r.status === 404) return op("delete-missed");
      if (r.status === 409) return conflict;
      if (unanswered(r) || failed(r)) return op("delete?", undefined, Infinity);
      return undefined;
  }
}

/** What an S3 answer means (Semantics.overwrites); a 409 changed nothing, and says nothing. */
function objectOp(r: Recorded, op: (does: Does, value?: string, ret?: number) => ModelOp): ModelOp | undefined {
  const unsure = unanswered(r) || failed(r);
  switch (r.f) {
    case "get":
      return r.status === 200 ? op("read") : r.status === 404 ? op("read", undefined) : undefined;
    case "put":
      return r.status === 200 ? op("written") : unsure ? op("put?", r.value, Infinity) : undefined;
    case "delete":
      return r.status === 204 ? op("deleted") : unsure ? op("delete?", undefined, Infinity) : undefined;
  }
}

/**
 * Whether `r` got an answer no state allows: a 4xx other than 404 and 409 (a 400 here is
 * the run's own fault), or a DELETE's 409 where 409 means only "exists"; for S3's
 * objects, a 404 but to a GET (DeleteObject of an absent key is 204; the bucket is never deleted).
 */
export function unexpected(r: Recorded, s: Semantics): boolean {
  if (s.overwrites && r.status === 404) return r.f !== "get";
  if (r.status === 409) return r.f === "delete" && !s.conflictMayBeBusy && !s.overwrites;
  return typeof r.status === "number" && r.status >= 400 && r.status < 500 && r.status !== 404;
}
