/**
 * POST /_kvdb/batch: many small replica writes and deletes in one request, so that a
 * master under many small writes makes one exchange per volume per window instead of
 * one per replica (volume/batch.ts serves it, master/batches.ts gathers it). The body:
 *   a head line — a JSON array of operations, {"put":name,"size":n[,"fields":f]} or
 *   {"del":name}, f as FIELDS_HEADER carries it (keys/fields.ts) — then "\n", then the
 *   bytes of every put, one after the other, in the head's order.
 * The answer, once every operation is durable (or failed): 200 with a JSON array, in
 * the same order, of what each would have answered alone: {"status":201,"size","md5"},
 * {"status":204}, {"status":404}, or {"status","error"}.
 * The URL carries `head`, the head line's SHA-256: a signed URL then names the
 * operations it allows, as a signed PUT names its key (signing/signing.ts).
 */
import { createHash } from "node:crypto";

export const BATCH_PATH = "/_kvdb/batch";
/** Values at most this large go in batches; larger ones stream in their own PUT (master/write-replicas.ts). */
export const BATCH_VALUE_MAX = 32 << 10;
/** Operations per request. */
export const MAX_OPS = 1024;
/** A body is read whole before it is parsed: its length is declared and bounded. */
export const MAX_BODY = 8 << 20;

export type BatchOp = { put: string; size: number; fields?: string } | { del: string };
export type BatchResult = { status: 201; size: number; md5: string } | { status: 204 | 404 } | { status: number; error: string };

/** The `head` query parameter of a batch whose head line is `head`. */
export function headDigest(head: string): string {
  return createHash("sha256").update(head).digest("base64url");
}

/** A batch's body (the values, in the order of their puts) and the head's digest. */
export function encodeBatch(ops: BatchOp[], values: Uint8Array[]): { body: Buffer<ArrayBuffer>; digest: string } {
  const head = JSON.stringify(ops);
  return { body: Buffer.concat([Buffer.from(`${head}\n`), ...values]) as Buffer<ArrayBuffer>, digest: headDigest(head) };
}

export interface DecodedBatch {
  ops: BatchOp[];
  /** The bytes of each put, by its index in `ops`. */
  values: Map<number, Uint8Array<ArrayBuffer>>;
}

function isOp(op: unknown): op is BatchOp {
  if (typeof op !== "object" || op === null) return false;
  const o = op as Record<string, unknown>;
  if (typeof o.del === "string") return Object.keys(o).length === 1;
  return typeof o.put === "string" && Number.isSafeInteger(o.size) && (o.size as number) >= 0 && (o.fields === undefined || typeof o.fields === "string");
}

/** Parses a whole body; throws an Error saying what is wrong with it (a 400). */
export function decodeBatch(body: Uint8Array<ArrayBuffer>, digest: string | undefined): DecodedBatch {
  const newline = body.indexOf(10);
  if (newline < 0) throw new Error("no head line");
  const head = Buffer.from(body.buffer, body.byteOffset, newline).toString("utf8");
  if (digest !== headDigest(head)) throw new Error("the head line does not match the URL's head digest");
  let ops: unknown;
  try {
    ops = JSON.parse(head);
  } catch {
    throw new Error("the head line is not JSON");
  }
  if (!Array.isArray(ops) || !ops.every(isOp)) throw new Error("the head line must be a JSON array of {put,size[,fields]} or {del}");
  if (ops.length > MAX_OPS) throw new Error(`at most ${MAX_OPS} operations per batch`);
  const values = new Map<number, Uint8Array<ArrayBuffer>>();
  let at = newline + 1;
  ops.forEach((op, i) => {
    if (!("put" in op)) return;
    if (at + op.size > body.byteLength) throw new Error(`the values end before the ${op.size} bytes of ${op.put}`);
    values.set(i, body.subarray(at, at + op.size));
    at += op.size;
  });
  if (at !== body.byteLength) throw new Error(`${body.byteLength - at} bytes after the last value`);
  return { ops, values };
}
