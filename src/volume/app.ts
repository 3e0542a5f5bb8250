/**
 * The volume server's HTTP API.
 *   GET|HEAD /key      the bytes (Range, If-None-Match, zero-copy where the runtime can)
 *   PUT /key           store (from the master), 201 {"size","md5"} once fsynced
 *   DELETE /key        204, or 404 if absent
 *   GET /_kvdb/health  {"total","free","count"}
 *   GET /_kvdb/list    every entry as NDJSON lines {"key","size","md5","time"}, streamed
 *   (copy.ts: /_kvdb/pull, /_kvdb/check; assemble.ts: /_kvdb/assemble)
 */
import { Hono, type Context } from "hono";
import { declaredLength, limited, overLimit, TooLarge } from "../http/content-length.ts";
import { fail } from "../http/errors.ts";
import { parseStoredName } from "../keys/names.ts";
import { requestLog } from "../http/log.ts";
import { runtime } from "../runtime/mod.ts";
import { requireSignature } from "../http/auth.ts";
import type { Blobs } from "./blobs.ts";
import type { Catalog } from "./catalog.ts";
import { matchesEtag, parseRange } from "./range.ts";
import { assembleRoutes } from "./assemble.ts";
import { copyRoutes } from "./copy.ts";
import { statSync } from "node:fs";

export interface VolumeDeps {
  blobs: Blobs;
  catalog: Catalog;
  verbose: boolean;
  /** Shared with the master: without it, anyone who can reach the volume may write. */
  secret?: string;
  /** Still accepted while the cluster moves to a new secret. */
  previousSecret?: string;
  /** Refuse unsigned reads too. */
  private?: boolean;
  /** Largest value accepted, in bytes (--max-size, defence in depth behind the master's). */
  maxSize?: number;
}

class BadUpload extends Error {}

const NO_BYTES: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

function keyOf(c: Context): string | Response {
  const parsed = parseStoredName(runtime.rawPath(c));
  return "error" in parsed ? fail(c, 400, parsed.error) : parsed.key;
}

export function volumeApp({ blobs, catalog, verbose, secret, previousSecret, private: isPrivate = false, maxSize }: VolumeDeps): Hono {
  const app = new Hono();
  if (verbose) app.use(requestLog("volume"));
  if (secret) app.use(requireSignature(previousSecret ? [secret, previousSecret] : [secret], isPrivate));

  app.get("/_kvdb/health", async (c) => c.json({ ...(await blobs.space()), count: catalog.count }));

  app.get("/_kvdb/list", (c) => {
    const lines = catalog.entries()[Symbol.asyncIterator]();
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const { value, done } = await lines.next();
        if (done) return ctl.close();
        const [key, e] = value;
        ctl.enqueue(enc.encode(JSON.stringify({ key, ...e }) + "\n"));
      },
      cancel: () => void lines.return?.(),
    });
    return c.body(stream, 200, { "content-type": "application/x-ndjson" });
  });

  copyRoutes(app, { blobs, catalog, secret }); // POST /_kvdb/pull/<key>, GET /_kvdb/check/<key>
  assembleRoutes(app, { blobs, catalog, secret }); // PUT /_kvdb/assemble/<name>

  app.get("*", async (c) => {
    const key = keyOf(c);
    if (key instanceof Response) return key;
    const entry = catalog.get(key);
    if (!entry) return c.body(null, 404, { "content-length": "0" });
    const path = blobs.path(key);
    // Synchronous, like the catalog lookup: an inode the kernel has cached costs less
    // than a thread-pool round trip.
    const size = statSync(path, { throwIfNoEntry: false })?.size;
    if (size === undefined) return fail(c, 404, "blob file missing");
    const etag = `"${entry.md5}"`;
    const headers: Record<string, string> = {
      "accept-ranges": "bytes",
      etag,
      // The master names the value's Content-Type in the URLs it hands out (S3 clients set one).
      "content-type": c.req.query("response-content-type") ?? "application/octet-stream",
      "last-modified": new Date(entry.time).toUTCString(),
    };
    if (matchesEtag(c.req.header("if-none-match"), etag)) return runtime.sendFile(c, 304, headers, null);
    const range = parseRange(c.req.header("range"), size);
    if (range.kind === "unsatisfiable") {
      return runtime.sendFile(c, 416, { ...headers, "content-range": `bytes */${size}`, "content-length": "0" }, null);
    }
    const [status, start, end] = range.kind === "partial" ? [206, range.start, range.end] : [200, 0, size - 1];
    headers["content-length"] = String(end - start + 1);
    if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${size}`;
    // A zero-byte blob has no slice to send (start 0, end -1).
    return runtime.sendFile(c, status, headers, size === 0 ? null : { path, start, end });
  });

  app.put("*", async (c) => {
    const key = keyOf(c);
    if (key instanceof Response) return key;
    const declared = declaredLength(c);
    if (declared.kind === "invalid") return fail(c, 400, "invalid Content-Length");
    if (declared.kind === "none") return fail(c, 411, "Content-Length or chunked body required");
    const tooLarge = overLimit(declared, maxSize);
    if (tooLarge) return fail(c, 413, tooLarge);
    if (declared.kind === "length" && declared.bytes > (await blobs.space()).free) {
      c.header("connection", "close"); // the unread body must not hold up the answer or poison a reused connection
      return fail(c, 507, "not enough free space on this volume");
    }
    // A runtime may give no body for Content-Length: 0 (an empty S3 object).
    const body = runtime.body(c) ?? (declared.kind === "length" && declared.bytes === 0 ? NO_BYTES : null);
    if (!body) return fail(c, 411, "empty body");
    try {
      const written = await blobs.write(key, limited(body, maxSize), (w) => {
        if (declared.kind === "length" && w.size !== declared.bytes) {
          throw new BadUpload(`body ended after ${w.size} of ${declared.bytes} bytes`);
        }
      });
      await catalog.put(key, { ...written, time: Date.now() });
      return c.json(written, 201);
    } catch (e) {
      if (e instanceof BadUpload) return fail(c, 400, e.message);
      if (e instanceof TooLarge) return fail(c, 413, e.message);
      if ((e as NodeJS.ErrnoException).code === "ENOSPC") {
        c.header("connection", "close"); // the rest of the body is not read: never reuse this connection
        return fail(c, 507, "volume disk full");
      }
      return fail(c, 400, `upload failed: ${(e as Error).message}`);
    }
  });

  app.delete("*", async (c) => {
    const key = keyOf(c);
    if (key instanceof Response) return key;
    const known = await catalog.del(key);
    const removed = await blobs.remove(key);
    return c.body(null, known || removed ? 204 : 404);
  });

  return app;
}
