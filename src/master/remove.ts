/**
 * DELETE /key removes the record and every replica; UNLINK /key hides the key at
 * once and leaves the bytes until a DELETE (minikeyvalue's soft delete).
 */
import type { Context } from "hono";
import { fail } from "../http/errors.ts";
import { IN_FLIGHT } from "./locks.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";

export function remove(m: Master, c: Context, key: string): Promise<Response> | Response {
  const deleted = m.locks.hold(key, async () => {
    const record = await m.index.get(key);
    // A record still "writing" belongs to a crashed PUT (or one another master has in flight).
    if (!record || (record.state === "writing" && !record.busy)) return c.body(null, 404, { "content-length": "0" });
    const owed = record.busy ? undefined : await purge(m, key, record);
    if (!owed) return fail(c, 409, IN_FLIGHT);
    if (!owed.length) return c.body(null, 204);
    // The key is gone; the bytes on down volumes are deleted when they return.
    return c.text(`deleted; replicas on ${owed.join(",")} will be removed when those volumes are back\n`, 202);
  });
  return deleted ?? fail(c, 409, IN_FLIGHT);
}

export function unlink(m: Master, c: Context, key: string): Promise<Response> | Response {
  const unlinked = m.locks.hold(key, async () => {
    const record = await m.index.get(key);
    if (record?.busy) return fail(c, 409, IN_FLIGHT);
    if (!record || record.state !== "live") return c.body(null, 404, { "content-length": "0" });
    if (!(await m.index.setState(key, record, "unlinked"))) return fail(c, 409, IN_FLIGHT);
    return c.body(null, 204);
  });
  return unlinked ?? fail(c, 409, IN_FLIGHT);
}
