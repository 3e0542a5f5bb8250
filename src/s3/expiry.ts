/**
 * Multipart uploads that are neither completed nor aborted do not keep their parts
 * forever: every minute (or --s3-upload-ttl, if shorter), uploads older than
 * --s3-upload-ttl are aborted, and parts whose upload is gone (a crash between
 * forgetting an upload and deleting its parts) are deleted.
 */
import { repeat } from "../repeat.ts";
import { dropUpload, PART_PREFIX, uploadLock, type Upload } from "./multipart.ts";
import type { S3 } from "./s3.ts";

/** One sweep. */
export async function expireUploads(s: S3, now = Date.now()): Promise<void> {
  const expired: string[] = [];
  for await (const [id, u] of s.values.tables.entries<Upload>("uploads")) if (now - u.initiated > s.uploadTtlMs) expired.push(id);
  for (const id of expired) await s.values.locks.hold(uploadLock(id), () => dropUpload(s.values, id));
  for (let from: string | undefined = PART_PREFIX; from !== undefined; ) from = await purgeStrays(s, from);
}

/** Stray parts are gathered at most this many at a time: there may be as many as there are keys. */
const STRAYS_AT_ONCE = 1000;

/** Purges the stray parts found from `from` on, up to STRAYS_AT_ONCE of them; where the next round starts (undefined: done). */
async function purgeStrays(s: S3, from: string): Promise<string | undefined> {
  const strays: string[] = [];
  let next: string | undefined;
  for await (const [key, record] of s.values.scan(from)) {
    if (!key.startsWith(PART_PREFIX)) break;
    const id = key.slice(PART_PREFIX.length, key.lastIndexOf("/"));
    if (record.state === "live" && !(await s.values.tables.get("uploads", id))) strays.push(key);
    if (strays.length === STRAYS_AT_ONCE) {
      next = `${key}\0`; // keys never hold NUL: the first key after this one
      break;
    }
  }
  for (const key of strays) {
    await s.values.locks.hold(key, async () => {
      const record = await s.values.get(key);
      if (record) await s.values.purge(key, record);
    });
  }
  return next;
}

/** Sweeps until the returned function is called. */
export function startExpiry(s: S3): () => void {
  return repeat("s3 upload expiry", Math.min(60_000, s.uploadTtlMs), () => expireUploads(s));
}
