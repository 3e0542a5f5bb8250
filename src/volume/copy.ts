/**
 * Volume-to-volume copy and re-hashing, for rebalance and verify --repair:
 *   POST /_kvdb/pull/<key>?from=<host:port or https://host:port>[&size=N][&md5=hex]
 *        this volume GETs the blob from the volume `from` and stores it as a PUT would
 *        (store.ts: inline if small, else tmp → fsync → rename, never whole in memory);
 *        the size and md5 are checked before the blob becomes visible. 201 {"size","md5"}; 502 if the source
 *        fails; 409 if what arrived is not what was asked for (nothing is stored then).
 *   GET  /_kvdb/check/<key>
 *        re-hashes the stored value (file or inline bytes): 200 {"size","md5",
 *        "catalog":{size,md5}|null}, or 404 {"catalog":…} when it is missing. Bit rot shows as an md5 that
 *        differs from the catalog's (and from the master's record).
 * Both are internal (/_kvdb/): with a secret they must be signed by the master, and the
 * pull signs its own GET of the source with the same secret.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Context, Hono } from "hono";
import { answerText, nothingStored } from "../errors.ts";
import { fail } from "../http/errors.ts";
import { keyPath } from "../keys/keys.ts";
import { parseStoredName } from "../keys/names.ts";
import { runtime } from "../runtime/mod.ts";
import { rawPath } from "../runtime/request.ts";
import { signUrl } from "../signing/signing.ts";
import { ADDRESS, originOf } from "../wire/address.ts";
import type { Entry } from "./catalog.ts";
import type { Written } from "./receive.ts";
import type { Store } from "./store.ts";
import { decodeFields, FIELDS_HEADER, type ValueFields } from "../keys/fields.ts";

/** A source that sends nothing for this long fails the pull. */
export const STALL_MS = 30_000;

export class Mismatch extends Error {}

/** Chunks of a web stream, failing if the next chunk takes longer than `stallMs`. */
export async function* watched(body: ReadableStream<Uint8Array>, stallMs: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`source stalled for ${stallMs} ms`)), stallMs);
      });
      try {
        const { value, done } = await Promise.race([reader.read(), stalled]);
        if (done) return;
        yield value;
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Bytes `start` to `end` (inclusive) of a value. */
export interface Slice {
  start: number;
  end: number;
}

/** GET of a value (or of its `slice`: 206) from another volume, signed with the cluster's secret: the answer, its body streaming. */
export function getFrom(from: string, name: string, secret: string | undefined, slice?: Slice): Promise<Response> {
  const plain = `${originOf(from)}${keyPath(name)}`;
  const headers: Record<string, string> = slice ? { range: `bytes=${slice.start}-${slice.end}` } : {};
  return runtime.call(secret ? signUrl(secret, "GET", plain, 300) : plain, { timeoutMs: STALL_MS, headers });
}

/**
 * Stores bytes that came from other volumes under `name` (`length` bytes, if known;
 * store.ts: inline or a file) and answers as a PUT does:
 * 201 {"size","md5"}; 409 if `check` found them not what was asked for, 507 if the
 * disk is full, 502 if reading them failed (`what`: where they came from). Nothing is
 * stored on any failure.
 */
export async function keep(
  c: Context,
  store: Store,
  name: string,
  body: AsyncIterable<Uint8Array>,
  length: number | undefined,
  what: string,
  check: (w: Written) => void,
  fields?: ValueFields,
): Promise<Response> {
  try {
    const written = await store.put(name, body, length, check, fields);
    return c.json(written, 201);
  } catch (e) {
    if (e instanceof Mismatch) return fail(c, 409, answerText(nothingStored(e)));
    if ((e as NodeJS.ErrnoException).code === "ENOSPC") return fail(c, 507, "volume disk full");
    return fail(c, 502, `${what} failed: ${(e as Error).message}`);
  }
}

export function keyAfter(rawPath: string, prefix: string): { key: string } | { error: string } {
  return parseStoredName(rawPath.slice(prefix.length));
}

/** A value's bytes as stored (or its `slice`), to re-hash: its inline bytes, or its file in 1 MiB reads. ENOENT if missing. */
export function stored(store: Store, key: string, entry: Entry | null, slice?: Slice): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
  if (!entry?.inline) return createReadStream(store.blobs.path(key), { highWaterMark: 1 << 20, ...slice });
  const bytes = store.catalog.bytesOf(key);
  if (!bytes) throw Object.assign(new Error("inline bytes missing"), { code: "ENOENT" });
  return [slice ? bytes.subarray(slice.start, slice.end + 1) : bytes];
}

export function copyRoutes(app: Hono, { store, secret }: { store: Store; secret?: string }): void {
  app.post("/_kvdb/pull/*", async (c) => {
    const parsed = keyAfter(rawPath(c), "/_kvdb/pull");
    if ("error" in parsed) return fail(c, 400, parsed.error);
    const key = parsed.key;
    const from = c.req.query("from") ?? "";
    if (!ADDRESS.test(from)) return fail(c, 400, "from must be host:port (or https://host:port) of the source volume");
    const wantSize = c.req.query("size") === undefined ? undefined : Number(c.req.query("size"));
    const wantMd5 = c.req.query("md5");
    let res: Response;
    try {
      res = await getFrom(from, key, secret);
    } catch (e) {
      return fail(c, 502, `source ${from}: ${(e as Error).message}`);
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return fail(c, 502, `source ${from} answered ${res.status}`);
    }
    const length = Number(res.headers.get("content-length") ?? NaN);
    let fields: ValueFields | undefined;
    try {
      fields = decodeFields(res.headers.get(FIELDS_HEADER));
    } catch {
      await res.body.cancel();
      return fail(c, 502, `source ${from} sent a malformed ${FIELDS_HEADER} header`);
    }
    if (Number.isFinite(length) && length > (await store.space.room()).free) {
      await res.body.cancel();
      return fail(c, 507, "not enough free space on this volume");
    }
    return keep(c, store, key, watched(res.body, STALL_MS), Number.isFinite(length) ? length : undefined, `copy from ${from}`, (w) => {
      if (wantSize !== undefined && w.size !== wantSize) throw new Mismatch(`copied ${w.size} bytes, expected ${wantSize}`);
      if (wantMd5 && w.md5 !== wantMd5) throw new Mismatch(`copied md5 ${w.md5}, expected ${wantMd5}`);
      if (Number.isFinite(length) && w.size !== length) throw new Mismatch(`source sent ${w.size} of ${length} bytes`);
    }, fields);
  });

  app.get("/_kvdb/check/*", async (c) => {
    const parsed = keyAfter(rawPath(c), "/_kvdb/check");
    if ("error" in parsed) return fail(c, 400, parsed.error);
    const entry = store.catalog.get(parsed.key) ?? null;
    const cat = entry && { size: entry.size, md5: entry.md5 };
    const hash = createHash("md5");
    let size = 0;
    try {
      for await (const chunk of stored(store, parsed.key, entry)) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return c.json({ catalog: cat }, 404);
      throw e;
    }
    return c.json({ size, md5: hash.digest("hex"), catalog: cat });
  });
}
