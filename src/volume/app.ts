/**
 * The volume server's HTTP API.
 *   GET|HEAD /key      the bytes (Range, If-None-Match, zero-copy where the runtime can)
 *   PUT /key           store (from the master), 201 {"size","md5"} once fsynced
 *   DELETE /key        204, or 404 if absent
 *   GET /_kvdb/health  {"total","free","count","runtime","version"}; with ?counters also {"fsyncs","held"} (counters.ts)
 *   GET /_kvdb/list    every entry as NDJSON lines {"key","size","md5","time"[,"fields"]}, streamed
 * A PUT may carry the value's S3 fields (keys/fields.ts: x-kvdb-fields); the catalog
 * keeps them, GET sends them back in the same header, the list names them.
 *   (copy.ts: /_kvdb/pull, /_kvdb/check; assemble.ts: /_kvdb/assemble; entries.ts: /_kvdb/entries;
 *   batch.ts: /_kvdb/batch, many small PUTs and DELETEs in one request;
 *   direct-write.ts: /_kvdb/write, a client's large PUT sent here by the master)
 */
import { Hono, type Context } from "hono";
import { declaredLength, discard, DISCARD_MAX, limited, overLimit, TooLarge } from "../wire/content-length.ts";
import { fail } from "../http/errors.ts";
import { parseStoredName } from "../keys/names.ts";
import { decodeFields, FIELDS_HEADER, type ValueFields } from "../keys/fields.ts";
import { rawPath, requestBody, requestTrailers } from "../runtime/request.ts";
import { MD5_TRAILER } from "../wire/direct-wire.ts";
import { runtime } from "../runtime/mod.ts";
import { requireSignature } from "../signing/auth.ts";
import type { VolumeCounters } from "./counters.ts";
import type { Store } from "./store.ts";
import { readValue } from "./read.ts";
import { assembleRoutes } from "./assemble.ts";
import { copyRoutes } from "./copy.ts";
import { entriesRoute } from "./entries.ts";
import { batchRoute } from "./batch.ts";
import { directWriteRoute } from "./direct-write.ts";
import { VERSION } from "../version.ts";

export interface VolumeDeps {
  store: Store;
  counters: VolumeCounters;
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
  const parsed = parseStoredName(rawPath(c));
  return "error" in parsed ? fail(c, 400, parsed.error) : parsed.key;
}

export function volumeApp({ store, counters, secret, previousSecret, private: isPrivate = false, maxSize }: VolumeDeps): Hono {
  const app = new Hono();
  if (secret) app.use(requireSignature(previousSecret ? [secret, previousSecret] : [secret], isPrivate));

  app.get("/_kvdb/health", async (c) => {
    const health = { ...(await store.space.room(true)), count: store.catalog.count, runtime: runtime.name, version: VERSION };
    return c.json(c.req.query("counters") === undefined ? health : { ...health, ...counters.toJSON() });
  });

  app.get("/_kvdb/list", (c) => {
    const lines = store.catalog.entries()[Symbol.asyncIterator]();
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const { value, done } = await lines.next();
        if (done) return ctl.close();
        const [key, { size, md5, time, fields }] = value; // not the form: the list is the same for inline values
        ctl.enqueue(enc.encode(JSON.stringify({ key, size, md5, time, fields }) + "\n"));
      },
      cancel: () => void lines.return?.(),
    });
    return c.body(stream, 200, { "content-type": "application/x-ndjson" });
  });

  copyRoutes(app, { store, secret }); // POST /_kvdb/pull/<key>, GET /_kvdb/check/<key>
  assembleRoutes(app, { store, secret }); // PUT /_kvdb/assemble/<name>
  entriesRoute(app, store); // POST /_kvdb/entries
  batchRoute(app, store, maxSize); // POST /_kvdb/batch
  directWriteRoute(app, store, secret, maxSize); // PUT|POST /_kvdb/write/<name>: a client's direct write

  app.get("*", (c) => {
    const key = keyOf(c);
    return key instanceof Response ? key : readValue(c, store, key);
  });

  app.put("*", async (c) => {
    const key = keyOf(c);
    if (key instanceof Response) return key;
    const declared = declaredLength(c);
    if (declared.kind === "invalid") return fail(c, 400, "invalid Content-Length");
    if (declared.kind === "none") return fail(c, 411, "Content-Length or chunked body required");
    const tooLarge = overLimit(declared, maxSize);
    if (tooLarge) return fail(c, 413, tooLarge);
    if (declared.kind === "length" && declared.bytes > (await store.space.room()).free) {
      // Up to DISCARD_MAX of the body is read and dropped first, so the sender hears a
      // clean 507 rather than a reset while it still writes; past that it is cut.
      const body = requestBody(c);
      if (body && declared.bytes <= DISCARD_MAX) await discard(body);
      c.header("connection", "close"); // what was not read must not poison a reused connection
      return fail(c, 507, "not enough free space on this volume");
    }
    // A runtime may give no body for Content-Length: 0 (an empty S3 object).
    const body = requestBody(c) ?? (declared.kind === "length" && declared.bytes === 0 ? NO_BYTES : null);
    if (!body) return fail(c, 411, "empty body");
    const length = declared.kind === "length" ? declared.bytes : undefined;
    let fields: ValueFields | undefined;
    try {
      fields = decodeFields(c.req.header(FIELDS_HEADER));
    } catch {
      return fail(c, 400, `malformed ${FIELDS_HEADER} header`);
    }
    // A direct write's other replica: the md5 comes after the body (wire/direct-wire.ts),
    // if this runtime hands over trailers; if not, the bytes are hashed here.
    const trailers = c.req.header(MD5_TRAILER) === "trailer" ? requestTrailers(c) : undefined;
    const givenMd5 =
      trailers &&
      (() => {
        const md5 = trailers()[MD5_TRAILER];
        if (!md5 || !/^[0-9a-f]{32}$/.test(md5)) throw new BadUpload(`the body ended without its ${MD5_TRAILER} trailer`);
        return md5;
      });
    try {
      const written = await store.put(key, limited(body, maxSize), length, (w) => {
        if (length !== undefined && w.size !== length) throw new BadUpload(`body ended after ${w.size} of ${length} bytes`);
      }, fields, givenMd5);
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
    return c.body(null, (await store.remove(key)) ? 204 : 404);
  });

  return app;
}
