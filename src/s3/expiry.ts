/**
 * Multipart uploads that are neither completed nor aborted do not keep their parts
 * forever: every minute (or --s3-upload-ttl, if shorter), uploads older than
 * --s3-upload-ttl are aborted, and parts whose upload is gone (a crash between
 * forgetting an upload and deleting its parts) are deleted.
 */
import { repeat } from "../master/janitor.ts";
import { purge } from "../master/replicas.ts";
import { dropUpload, PART_PREFIX, uploadLock, type Upload } from "./multipart.ts";
import type { S3 } from "./s3.ts";

/** One sweep. */
export async function expireUploads(s: S3, now = Date.now()): Promise<void> {
  const expired: string[] = [];
  for await (const [id, u] of s.m.index.entries<Upload>("uploads")) if (now - u.initiated > s.uploadTtlMs) expired.push(id);
  for (const id of expired) await s.m.locks.hold(uploadLock(id), () => dropUpload(s.m, id));
  const strays: string[] = [];
  for await (const [key, record] of s.m.index.scan(PART_PREFIX)) {
    if (!key.startsWith(PART_PREFIX)) break;
    const id = key.slice(PART_PREFIX.length, key.lastIndexOf("/"));
    if (record.state === "live" && !(await s.m.index.entry("uploads", id))) strays.push(key);
  }
  for (const key of strays) {
    await s.m.locks.hold(key, async () => {
      const record = await s.m.index.get(key);
      if (record) await purge(s.m, key, record);
    });
  }
}

/** Sweeps until the returned function is called. */
export function startExpiry(s: S3): () => void {
  return repeat("s3 upload expiry", Math.min(60_000, s.uploadTtlMs), () => expireUploads(s));
}
