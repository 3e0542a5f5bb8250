/**
 * GET /prefix?list[&start=K][&limit=N] and GET /?unlinked: keys in order as JSON
 * {"next": "...", "keys": [...]}. Without a limit every key is listed; the answer is
 * streamed, so a listing of millions of keys never sits in memory.
 */
import type { Context } from "hono";
import { fail } from "../http/errors.ts";
import { RESERVED_PREFIX } from "../keys/keys.ts";
import type { Master } from "./master.ts";
import type { KeyRecord, State } from "./index/index.ts";

export async function list(m: Master, c: Context, prefix: string, state: State): Promise<Response> {
  const limitParam = c.req.query("limit");
  const limit = limitParam === undefined ? Infinity : Number(limitParam);
  if (!Number.isSafeInteger(limit) && limit !== Infinity) return fail(c, 400, "limit must be a positive integer");
  if (limit < 1) return fail(c, 400, "limit must be a positive integer");
  const start = c.req.query("start");
  const from = start !== undefined && start > prefix ? start : prefix;

  const enc = new TextEncoder();
  const records = m.index.scan(from);
  // The first record is read before the answer starts: an index that cannot be read
  // is a 503, never a 200 with an empty or broken list.
  let ahead: IteratorResult<[string, KeyRecord]> | undefined = await records.next();
  let count = 0;
  let first = true;
  const stream = new ReadableStream<Uint8Array>({
    start: (ctl) => ctl.enqueue(enc.encode('{"keys":[')),
    async pull(ctl) {
      // Emit up to 256 keys per pull: small enough to stream, big enough to be quick.
      for (let i = 0; i < 256; i++) {
        const entry = ahead ?? (await records.next());
        ahead = undefined;
        if (entry.done || !entry.value[0].startsWith(prefix)) return end(ctl, "");
        const [key, record] = entry.value;
        // Keys the servers keep for themselves (S3 parts) are no client's.
        if (record.state !== state || key.startsWith(RESERVED_PREFIX)) continue;
        if (count === limit) return end(ctl, key);
        ctl.enqueue(enc.encode((first ? "" : ",") + JSON.stringify(key)));
        first = false;
        count++;
      }
    },
    cancel: () => void records.return?.(),
  });
  async function end(ctl: ReadableStreamDefaultController<Uint8Array>, next: string) {
    await records.return?.();
    ctl.enqueue(enc.encode(`],"next":${JSON.stringify(next)}}\n`));
    ctl.close();
  }
  return c.body(stream, 200, { "content-type": "application/json" });
}
