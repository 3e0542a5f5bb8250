/**
 * Reads a body whole only while it is small. A value of at most `max` bytes is stored
 * inline (volume/store.ts) or sent in a batch (master/store.ts); a longer body, whose
 * length may be unknown until it ends
 * (chunked), is read into memory only up to `max` bytes (plus the chunk that passed
 * it), then handed on, those chunks first, to be streamed into a file.
 */
import { Buffer } from "node:buffer";
import type { Context } from "hono";
import { declaredLength } from "./content-length.ts";
import { fail } from "../http/errors.ts";
import { requestBody } from "../runtime/request.ts";

export type Taken = { small: Uint8Array<ArrayBuffer> } | { large: AsyncIterable<Uint8Array> };

export async function takeSmall(body: AsyncIterable<Uint8Array>, max: number): Promise<Taken> {
  const rest = body[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return { small: Buffer.concat(head, size) };
    head.push(value);
    size += value.byteLength;
    if (size > max) return { large: rejoined(head, rest) };
  }
}

/** The chunks already read, then the rest of the body. */
async function* rejoined(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  let stopped = true; // by the consumer (a failed write) while the body can still give chunks
  try {
    while (head.length) yield head.shift()!;
    for (;;) {
      stopped = false; // a failing next() leaves the body alone, as a for-await would
      const { value, done } = await rest.next();
      if (done) return;
      stopped = true;
      yield value;
    }
  } finally {
    if (stopped) await rest.return?.(); // release the body, as a for-await's break would
  }
}

/**
 * The body of a request an endpoint parses whole (a list of names, a batch): its length
 * must be declared and at most `max` bytes, or the answer is 411/413 and the connection
 * is closed (the body was not read, so it must not be reused).
 */
export async function boundedBody(c: Context, max: number): Promise<Uint8Array<ArrayBuffer> | Response> {
  const declared = declaredLength(c);
  if (declared.kind !== "length" || declared.bytes > max) {
    c.header("connection", "close");
    return declared.kind === "length" ? fail(c, 413, `the body is larger than ${max} bytes`) : fail(c, 411, "Content-Length required");
  }
  const body = requestBody(c);
  if (!body) return new Uint8Array(0);
  const taken = await takeSmall(body, max);
  return "small" in taken ? taken.small : fail(c, 400, "the body is longer than its Content-Length");
}
