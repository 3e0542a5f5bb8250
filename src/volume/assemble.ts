/**
 * PUT /_kvdb/assemble/<name>, body {"parts":[{"name","size","volumes":["host:port",…][,"offset"]},…][,"fields":{…}]}
 *   stores under <name> the values named, one after the other: an S3 multipart upload
 *   completed, or an S3 server-side copy (one part; with "offset", `size` bytes of the
 *   value from there: S3's UploadPartCopy of a range). Each part is read from this
 *   volume's own file when it holds one, else pulled from one of its volumes (signed
 *   GET, as copy.ts pulls), never whole in memory; each must be exactly its size. The
 *   result is written like any value (tmp → fsync → rename, catalog). Assembling
 *   gigabytes outlasts any idle timeout, so once the request is read the answer is 201
 *   at once, a space every ASSEMBLY_KEEP_ALIVE_MS (http/kept-alive.ts), then one JSON
 *   object with the outcome a PUT's status would have said: {"status":201,"size","md5"},
 *   or {"status":409,"error"} (nothing stored: a part is not what was announced), 502, 507.
 *   `fields` (keys/fields.ts) are kept in the catalog entry, as a PUT's header would be.
 * Internal (/_kvdb/): with a secret, only the master may ask.
 */
import type { Hono } from "hono";
import { fail } from "../http/errors.ts";
import { rawPath } from "../runtime/request.ts";
import { getFrom, keep, keyAfter, Mismatch, STALL_MS, stored, watched, type Slice } from "./copy.ts";
import type { Store } from "./store.ts";
import { keptAlive } from "../http/kept-alive.ts";
import { logger } from "../observe/logger.ts";
import { someFields, type ValueFields } from "../keys/fields.ts";

/** Well under the servers' 60 s idle timeout (runtime/types.ts) and the master's volume stall timeout. */
const ASSEMBLY_KEEP_ALIVE_MS = 5000;

interface Part {
  name: string;
  size: number;
  volumes: string[];
  /** The part is `size` bytes of the value from this one; absent: the whole value. */
  offset?: number;
}

const isPart = (p: Partial<Part>): p is Part =>
  typeof p?.name === "string" &&
  Number.isSafeInteger(p.size) &&
  Array.isArray(p.volumes) &&
  p.volumes.every((v) => typeof v === "string") &&
  (p.offset === undefined || (Number.isSafeInteger(p.offset) && p.offset >= 0 && p.size! > 0));

/** One part's bytes: this volume's own file if it has one, else the first of its volumes that answers. */
async function* partBytes({ store, secret }: Deps, part: Part): AsyncGenerator<Uint8Array> {
  const slice: Slice | undefined = part.offset === undefined ? undefined : { start: part.offset, end: part.offset + part.size - 1 };
  const entry = store.catalog.get(part.name);
  if (entry) {
    try {
      // Its inline bytes, or its file (store.ts).
      for await (const chunk of stored(store, part.name, entry, slice)) yield chunk as Uint8Array;
      return;
    } catch (e) {
      // The catalog knew it but the bytes are gone: another volume's copy will do.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  const why: string[] = [];
  for (const from of part.volumes) {
    try {
      const res = await getFrom(from, part.name, secret, slice);
      if (res.status === (slice ? 206 : 200) && res.body) return yield* watched(res.body, STALL_MS);
      await res.body?.cancel();
      why.push(`${from} answered ${res.status}`);
    } catch (e) {
      why.push(`${from}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no copy of ${part.name} could be read (${why.join("; ") || "no volume named"})`);
}

/** The parts one after the other, each checked for its size as it ends. */
async function* concatenated(deps: Deps, parts: Part[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    let size = 0;
    for await (const chunk of partBytes(deps, part)) {
      size += chunk.byteLength;
      if (size > part.size) throw new Mismatch(`${part.name} is longer than ${part.size} bytes`);
      yield chunk;
    }
    if (size !== part.size) throw new Mismatch(`${part.name} has ${size} bytes, not ${part.size}`);
  }
}

interface Deps {
  store: Store;
  secret?: string;
}

export function assembleRoutes(app: Hono, deps: Deps): void {
  app.put("/_kvdb/assemble/*", async (c) => {
    const parsed = keyAfter(rawPath(c), "/_kvdb/assemble");
    if ("error" in parsed) return fail(c, 400, parsed.error);
    let parts: Part[];
    let fields: ValueFields | undefined;
    try {
      const doc = JSON.parse(await c.req.text()) as { parts: Part[]; fields?: ValueFields };
      parts = doc.parts;
      fields = someFields(doc.fields);
      if (!Array.isArray(parts) || !parts.every(isPart)) throw new Error("bad parts");
    } catch {
      return fail(c, 400, 'the body must be {"parts":[{"name","size","volumes"},…]}');
    }
    const total = parts.reduce((n, p) => n + p.size, 0);
    if (total > (await deps.store.space.room()).free) return fail(c, 507, "not enough free space on this volume");
    const outcome = keep(c, deps.store, parsed.key, concatenated(deps, parts), total, "assembling", () => {}, fields).then(async (res) => {
      const text = await res.text();
      // The 201 went out before: the request log cannot tell, so say it here.
      if (res.status !== 201) logger("volume").error(`assembling ${parsed.key} failed: ${text.trim()}`, { status: res.status });
      return JSON.stringify(res.status === 201 ? { status: 201, ...(JSON.parse(text) as object) } : { status: res.status, error: text.trim() });
    });
    return c.body(keptAlive("", outcome, ASSEMBLY_KEEP_ALIVE_MS), 201, { "content-type": "application/json" });
  });
}
