/**
 * POST /_kvdb/entries (wire/entries.ts): what the catalog says of many replicas at once,
 * and whether each one's bytes are there, without reading them. A file cut short or
 * lost shows; bit rot inside the bytes does not: that takes a re-hash (GET
 * /_kvdb/check, copy.ts).
 */
import { stat } from "node:fs/promises";
import type { Hono } from "hono";
import { Buffer } from "node:buffer";
import { fail } from "../http/errors.ts";
import { MAX_NAMES, type HeldReplica } from "../wire/entries.ts";
import { boundedBody } from "../wire/small-body.ts";
import type { Store } from "./store.ts";

/** The body is read whole before it is parsed: its length is declared and bounded (names of up to 1 KiB, escaped). */
const MAX_BODY = 4 << 20;

async function held(store: Store, name: string): Promise<HeldReplica> {
  const entry = store.catalog.get(name);
  if (!entry) return null;
  if (entry.inline) {
    const bytes = store.catalog.bytesOf(name);
    return bytes ? { size: bytes.byteLength, md5: entry.md5 } : null;
  }
  try {
    return { size: (await stat(store.blobs.path(name))).size, md5: entry.md5 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function entriesRoute(app: Hono, store: Store): void {
  app.post("/_kvdb/entries", async (c) => {
    const body = await boundedBody(c, MAX_BODY);
    if (body instanceof Response) return body;
    let names: unknown;
    try {
      names = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    } catch {
      return fail(c, 400, "the body must be a JSON array of stored names");
    }
    if (!Array.isArray(names) || !names.every((n) => typeof n === "string" && n.startsWith("/"))) {
      return fail(c, 400, "the body must be a JSON array of stored names");
    }
    if (names.length > MAX_NAMES) return fail(c, 400, `at most ${MAX_NAMES} names per request`);
    return c.json(await Promise.all(names.map((n: string) => held(store, n))));
  });
}
