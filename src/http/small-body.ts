/**
 * Reads a body whole only while it is small. A value of at most `max` bytes is stored
 * inline (store.ts); a longer body, whose length may be unknown until it ends
 * (chunked), is read into memory only up to `max` bytes (plus the chunk that passed
 * it), then handed on, those chunks first, to be streamed into a file.
 */
import { Buffer } from "node:buffer";

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
