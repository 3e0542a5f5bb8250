/**
 * How a call to a volume failed: the one error every VolumeClient call throws (a
 * KvdbError, so each API surface maps it like any other: "full" for a volume that said
 * 507, else "unavailable"). It names the volume and what happened, so a caller decides
 * from `failure` alone whether to mark the volume down or send the value elsewhere.
 */
import { KvdbError } from "../errors.ts";
import { connectionLost, EarlyAnswer, Stalled } from "../wire/outgoing-body.ts";

export type VolumeFailure =
  /** Nothing listens at its address (a refused connection): it died. */
  | "down"
  /** It took no byte and gave no answer for the volume timeout (a full disk never looks like that). */
  | "stalled"
  /** The connection broke, or the call ran out of time, without an answer. */
  | "broken"
  /** It answered with an error status (other than 507). */
  | "refused"
  /** It answered 507: its disk is full. */
  | "full"
  /** It stored other bytes than it was sent, or its answer could not be read. */
  | "mismatch";

export class VolumeError extends KvdbError {
  constructor(
    readonly volume: string,
    readonly failure: VolumeFailure,
    /** What happened, without the volume's name (the message says "volume V: detail"). */
    readonly detail: string,
    /** Its answer's status; 0: none. */
    readonly status = 0,
    /** Body bytes sent to it when it failed (a streamed write's). */
    readonly sent = 0,
  ) {
    super(failure === "full" ? "full" : "unavailable", `volume ${volume}: ${detail}`);
  }

  /** Whether the volume gave no answer at all (down, stalled or broken). */
  get unanswered(): boolean {
    return this.status === 0 && this.failure !== "mismatch";
  }
}

/** The volume answered `status` (not the success the call expected), saying `body`. */
export function answeredError(volume: string, status: number, body: string, what = "answered"): VolumeError {
  return new VolumeError(volume, status === 507 ? "full" : "refused", `${what} ${status} ${body.trim()}`.trimEnd(), status);
}

/** A call to `volume` that threw (`e`), as a VolumeError; `sent`: body bytes sent so far. */
export function volumeError(volume: string, e: unknown, sent = 0): VolumeError {
  if (e instanceof VolumeError) return e;
  const message = (e as Error).message;
  if (e instanceof EarlyAnswer) return new VolumeError(volume, e.status === 507 ? "full" : "refused", message, e.status, sent);
  if (e instanceof Stalled) return new VolumeError(volume, "stalled", message, 0, sent);
  return new VolumeError(volume, connectionLost(e) === "refused" ? "down" : "broken", message, 0, sent);
}
