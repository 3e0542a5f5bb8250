/**
 * DELETE /key removes the record and every replica; UNLINK /key hides the key at
 * once and leaves the bytes until a DELETE (minikeyvalue's soft delete). Each waits
 * for an operation in flight on the key (in-flight.ts), then answers for itself:
 * 204 only when it removed (or hid) a live or unlinked key.
 */
import type { Context } from "hono";
import { exclusively } from "./in-flight.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";

const notFound = (c: Context) => c.body(null, 404, { "content-length": "0" });

export function remove(m: Master, c: Context, key: string): Promise<Response> {
  return exclusively(m, key, async (settled) => {
    for (;; settled.again()) {
      const record = await settled.record();
      // A record still "writing" and not busy belongs to a PUT that a crash cut short: its client never heard 201.
      if (!record || record.state === "writing") return notFound(c);
      const owed = await purge(m, key, record);
      if (!owed) continue; // changed meanwhile: look again
      // Finishing a delete another operation began (and a crash interrupted) deletes nothing the client could see.
      if (record.state === "deleting") return notFound(c);
      if (!owed.length) return c.body(null, 204);
      // The key is gone; the bytes on down volumes are deleted when they return.
      return c.text(`deleted; replicas on ${owed.join(",")} will be removed when those volumes are back\n`, 202);
    }
  });
}

export function unlink(m: Master, c: Context, key: string): Promise<Response> {
  return exclusively(m, key, async (settled) => {
    for (;; settled.again()) {
      const record = await settled.record();
      if (!record || record.state !== "live") return notFound(c);
      if (await m.index.setState(key, record, "unlinked")) return c.body(null, 204);
    }
  });
}
