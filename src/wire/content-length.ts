/** What a request says about its body's length, read from headers before the body. */
import type { Context } from "hono";
import { HttpError } from "../http/errors.ts";

export type DeclaredLength =
  | { kind: "length"; bytes: number }
  | { kind: "chunked" }
  | { kind: "none" }
  | { kind: "invalid" };

export function declaredLength(c: Context): DeclaredLength {
  const cl = c.req.header("content-length");
  if (cl !== undefined) {
    const bytes = Number(cl);
    return /^\d{1,16}$/.test(cl.trim()) && Number.isSafeInteger(bytes) ? { kind: "length", bytes } : { kind: "invalid" };
  }
  const te = c.req.header("transfer-encoding");
  return te && /chunked/i.test(te) ? { kind: "chunked" } : { kind: "none" };
}

/** A body longer than --max-size: answered 413, nothing stored. */
export class TooLarge extends HttpError {
  constructor(readonly max: number) {
    super(413, `value larger than the ${max}-byte limit (--max-size)`);
  }
}

/**
 * The body, failing with TooLarge as soon as more than `max` bytes came. The failing
 * next() does not close the body (a for-await only does that on a break), so the
 * server can still answer 413 on the connection.
 */
export function limited(body: AsyncIterable<Uint8Array>, max: number | undefined): AsyncIterable<Uint8Array> {
  if (max === undefined) return body; // no limit: no wrapper on every chunk
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      let size = 0;
      return {
        async next() {
          const r = await it.next();
          if (!r.done && (size += r.value.byteLength) > max) throw new TooLarge(max);
          return r;
        },
        async return(value?: unknown) {
          return (await it.return?.(value)) ?? { done: true as const, value: undefined };
        },
      };
    },
  };
}

/** The 413 message when the declared length is over `max` (decided before reading the body). */
export function overLimit(declared: DeclaredLength, max: number | undefined): string | undefined {
  return max !== undefined && declared.kind === "length" && declared.bytes > max ? new TooLarge(max).message : undefined;
}

/** How much of a refused body is still read (and dropped) so the client hears the answer. */
export const DISCARD_MAX = 64 << 20;

/**
 * Reads and drops what is left of a body, up to `max` bytes: a client still sending
 * when the answer comes would otherwise see its connection reset instead of the answer.
 */
export async function discard(body: AsyncIterable<Uint8Array>, max = DISCARD_MAX): Promise<void> {
  let n = 0;
  try {
    for await (const chunk of body) if ((n += chunk.byteLength) > max) break;
  } catch {
    // the client went away: nothing to answer
  }
}
