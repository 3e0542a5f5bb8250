/**
 * The register model of one curl-API key: absent, or holding one value; "put if absent"
 * (201/409), get, delete (204/404). For S3's objects (Semantics.overwrites) a plain
 * register: a put always stores, a delete always leaves it absent. A state is a string, so the search can remember it:
 * "" absent, "=" + value present, "~" absent to GETs while an interrupted delete of it may
 * still be claimed by a DELETE's 204 (only under Semantics.deleteMayClaimInterrupted).
 */
import type { ModelOp, Semantics } from "./history.ts";

export const ABSENT = "";
export const HALF_DELETED = "~";
export const holding = (value: string) => `=${value}`;

const present = (state: string) => state.startsWith("=");
const absent = (state: string) => !present(state);

/**
 * The state after `op` in `state`, or undefined if `op` cannot happen there. An
 * indeterminate operation (put?, delete?) is stepped only for its effect: it can always
 * also not happen, which the search gets by never choosing it.
 */
export function step(state: string, op: ModelOp, s: Semantics): string | undefined {
  switch (op.does) {
    case "read":
      if (op.value === undefined) return absent(state) ? state : undefined;
      return state === holding(op.value) ? state : undefined;
    case "written":
      return holding(op.value!);
    case "created":
    case "put?":
      return absent(state) || s.overwrites ? holding(op.value!) : undefined;
    case "refused":
      return present(state) ? state : undefined;
    case "refused-or-busy":
      return state;
    case "deleted":
      return present(state) || (state === HALF_DELETED && s.deleteMayClaimInterrupted) || s.overwrites ? ABSENT : undefined;
    case "delete-missed":
      return absent(state) ? state : undefined;
    case "delete?":
      return present(state) ? (s.deleteMayClaimInterrupted ? HALF_DELETED : ABSENT) : undefined;
  }
}

/** A state in words, for findings. */
export function describeState(state: string): string {
  if (state === ABSENT) return "absent";
  if (state === HALF_DELETED) return "absent (an interrupted delete pending)";
  return `holding ${JSON.stringify(state.slice(1))}`;
}
