/**
 * A long CompleteMultipartUpload, as S3 answers it: 200 at once with the XML
 * declaration, then a space every few seconds while the volumes assemble the object
 * (so that no client, proxy or idle timer drops a quiet connection), then the result
 * document — or an <Error> document in that same 200 body if the work failed, which is
 * what S3 documents for this call and how the AWS SDK reads it (as an error).
 */
import type { Context } from "hono";
import { HttpError } from "../http/errors.ts";
import { errorDocument, S3Error } from "./errors.ts";
import { DECLARATION, xmlRoot } from "./xml.ts";

/** Default for S3.keepAliveMs: S3's own pace is not documented; well under common 30–60 s idle timeouts. */
export const KEEP_ALIVE_MS = 5000;

/**
 * The answer for `work`, which resolves to the result document's root and body (no
 * declaration); a space goes out every `everyMs` until it settles.
 */
export function keptAlive(c: Context, work: Promise<{ root: string; body: string }>, everyMs: number, resource: string): Response {
  const enc = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(enc.encode(DECLARATION));
      timer = setInterval(() => ctl.enqueue(enc.encode(" ")), everyMs);
      work
        .then(
          ({ root, body }) => xmlRoot(root, body),
          (e: Error) => errorDocument(c, e instanceof HttpError ? e : new S3Error("InternalError", `internal error: ${e.message}`), resource),
        )
        .then((doc) => {
          clearInterval(timer);
          ctl.enqueue(enc.encode(doc));
          ctl.close();
        });
    },
    cancel() {
      clearInterval(timer); // the client went away; the work itself goes on and finishes
    },
  });
  return c.body(stream, 200, { "content-type": "application/xml" });
}
