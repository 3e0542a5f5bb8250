/**
 * POST /_kvdb/batch (wire format: wire/batch-wire.ts): each operation does what its own
 * PUT or DELETE would, all at once, so their catalog records share synced batches
 * (catalog.ts); the answer goes out once every one is durable or has failed.
 */
import type { Hono } from "hono";
import { TooLarge } from "../wire/content-length.ts";
import { fail } from "../http/errors.ts";
import { boundedBody } from "../wire/small-body.ts";
import { decodeFields, FIELDS_HEADER } from "../keys/fields.ts";
import { storedNameError } from "../keys/names.ts";
import { BATCH_PATH, decodeBatch, MAX_BODY, type BatchOp, type BatchResult } from "../wire/batch-wire.ts";
import type { Store } from "./store.ts";

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function refused(status: number, error: string): BatchResult {
  return { status, error };
}

async function apply(store: Store, op: BatchOp, bytes: Uint8Array | undefined, fits: boolean, maxSize: number | undefined): Promise<BatchResult> {
  const name = "put" in op ? op.put : op.del;
  const bad = storedNameError(name);
  if (bad) return refused(400, bad);
  if (!("put" in op)) return { status: (await store.remove(name)) ? 204 : 404 };
  if (maxSize !== undefined && op.size > maxSize) return refused(413, new TooLarge(maxSize).message);
  if (!fits) return refused(507, "not enough free space on this volume");
  let fields;
  try {
    fields = decodeFields(op.fields);
  } catch {
    return refused(400, `malformed ${FIELDS_HEADER}`);
  }
  try {
    const written = await store.put(name, oneChunk(bytes!), op.size, () => {}, fields);
    return { status: 201, ...written };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOSPC" ? refused(507, "volume disk full") : refused(500, `upload failed: ${(e as Error).message}`);
  }
}

export function batchRoute(app: Hono, store: Store, maxSize: number | undefined): void {
  app.post(BATCH_PATH, async (c) => {
    const body = await boundedBody(c, MAX_BODY);
    if (body instanceof Response) return body;
    let batch;
    try {
      batch = decodeBatch(body, c.req.query("head"));
    } catch (e) {
      return fail(c, 400, `bad batch: ${(e as Error).message}`);
    }
    // Room is checked for the batch as a whole, as a lone PUT checks its declared length.
    let room = (await store.space.room()).free;
    const results = await Promise.all(
      batch.ops.map((op, i) => {
        const fits = !("put" in op) || (room -= op.size) >= 0;
        return apply(store, op, batch.values.get(i), fits, maxSize);
      }),
    );
    return c.json(results);
  });
}
