/**
 * A long CompleteMultipartUpload, as S3 answers it: 200 at once with the XML
 * declaration, then a space every few seconds while the volumes assemble the object
 * (so that no client, proxy or idle timer drops a quiet connection), then the result
 * document — or an <Error> document in that same 200 body if the work failed, which is
 * what S3 documents for this call and how the AWS SDK reads it (as an error).
 */
import type { Context } from "hono";
import { errorDocument } from "./errors.ts";
import { DECLARATION, xmlRoot } from "./xml.ts";
import { keptAlive } from "../http/kept-alive.ts";
import { logger } from "../observe/logger.ts";

/** Default for S3.keepAliveMs: S3's own pace is not documented; well under common 30–60 s idle timeouts. */
export const KEEP_ALIVE_MS = 5000;

/**
 * The answer for `work`, which resolves to the result document's root and body (no
 * declaration); a space goes out every `everyMs` until it settles.
 */
export function keptAliveXml(c: Context, work: Promise<{ root: string; body: string }>, everyMs: number, resource: string): Response {
  const doc = work.then(
    ({ root, body }) => xmlRoot(root, body),
    (e: Error) => {
      // The answer's status (200) went out before: the request log cannot tell, so say it here.
      logger("s3").error(`${c.req.method} ${resource} failed after its 200: ${e.message}`, { path: resource });
      return errorDocument(c, e, resource);
    },
  );
  return c.body(keptAlive(DECLARATION, doc, everyMs), 200, { "content-type": "application/xml" });
}
