/**
 * DELETE /key removes the record and every replica; UNLINK /key hides the key at
 * once and leaves the bytes until a DELETE (minikeyvalue's soft delete).
 */
import type { Context } from "hono";
import { fail } from "../fail.ts";
import type { Master } from "./master.ts";
import { purge } from "./purge.ts";

export async function remove(m: Master, c: Context, key: string): Promise<Response> {
  if (m.busy.has(key)) return fail(c, 409, "another write or delete of this key is in flight");
  m.busy.add(key);
  try {
    const record = m.records.get(key);
    // A record still "writing" belongs to a crashed PUT: to the client it never existed.
    if (!record || record.state === "writing") return c.body(null, 404, { "content-length": "0" });
    const owed = await purge(m, key, record);
    if (!owed.length) return c.body(null, 204);
    // The key is gone; the bytes on down volumes are deleted when they return.
    return c.text(`deleted; replicas on ${owed.join(",")} will be removed when those volumes are back\n`, 202);
  } finally {
    m.busy.delete(key);
  }
}

export async function unlink(m: Master, c: Context, key: string): Promise<Response> {
  if (m.busy.has(key)) return fail(c, 409, "another write or delete of this key is in flight");
  m.busy.add(key);
  try {
    const record = m.records.get(key);
    if (!record || record.state !== "live") return c.body(null, 404, { "content-length": "0" });
    await m.records.set(key, { ...record, state: "unlinked" });
    return c.body(null, 204);
  } finally {
    m.busy.delete(key);
  }
}
