/**
 * Streams a request body into a file, hashing it on the way, and fsyncs it: each file
 * needs its own fsync (no call syncs many files' data at once), unlike directory entries
 * (dir-syncs.ts) and catalog records (catalog.ts), whose fsyncs are shared.
 * Reads and disk writes overlap: one batch (≤ 1 MiB) is written while the next is
 * read, so memory stays at two batches whatever the value size.
 */
import { createHash } from "node:crypto";
import type { VolumeCounters } from "./counters.ts";
import { closeFd, fdatasyncFd, fsyncFd, openFd, writevFd } from "./fd.ts";

const BATCH = 1 << 20;
/**
 * A large value is flushed to disk while it arrives, every FLUSH bytes, in the
 * background: otherwise the kernel holds it all as dirty pages (with lots of RAM it
 * never starts writeback on its own) and the final fsync writes it in one go after
 * the last byte, 0.6 s for 1 GiB here, while the client waits.
 */
const FLUSH = 64 << 20;

export interface Written {
  size: number;
  md5: string;
}

/** writev may write less than asked (IOV_MAX, a full disk): write the rest. */
async function writeAll(fd: number, chunks: Uint8Array[], bytes: number): Promise<void> {
  while (bytes > 0) {
    const bytesWritten = await writevFd(fd, chunks);
    if (bytesWritten === 0) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    bytes -= bytesWritten;
    let skip = bytesWritten;
    while (chunks.length && skip >= chunks[0].byteLength) skip -= chunks.shift()!.byteLength;
    if (skip) chunks[0] = chunks[0].subarray(skip);
  }
}

/**
 * `given`: the md5 is the sender's, known once the body has ended (a direct write's
 * other replicas: volume/direct-write.ts), so the bytes are not hashed here.
 */
export async function receive(body: AsyncIterable<Uint8Array>, path: string, counters: VolumeCounters, given?: () => string): Promise<Written> {
  const fd = await openFd(path, "wx");
  const hash = given ? undefined : createHash("md5");
  let size = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let writing: Promise<void> = Promise.resolve();
  let flushing: Promise<void> = Promise.resolve();
  let unflushed = 0;
  let flushed = true;
  try {
    for await (const chunk of body) {
      hash?.update(chunk);
      size += chunk.byteLength;
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= BATCH) {
        await writing;
        writing = writeAll(fd, batch, batchBytes);
        writing.catch(() => {}); // awaited below; no unhandled rejection meanwhile
        unflushed += batchBytes;
        batch = [];
        batchBytes = 0;
        if (unflushed >= FLUSH && flushed) {
          // Once this write is done, flush all written so far; one flush at a time.
          flushed = false;
          flushing = writing.then(() => counters.timed("file", () => fdatasyncFd(fd))).finally(() => (flushed = true));
          flushing.catch(() => {}); // awaited below; no unhandled rejection meanwhile
          unflushed = 0;
        }
      }
    }
    await writing;
    await writeAll(fd, batch, batchBytes);
    // A failed flush fails the write: Linux reports a writeback error to one fsync
    // only, so the final fsync could succeed after pages were lost.
    await flushing;
    await counters.timed("file", () => fsyncFd(fd));
  } finally {
    await writing.catch(() => {});
    await flushing.catch(() => {});
    await closeFd(fd);
  }
  return { size, md5: hash ? hash.digest("hex") : given!() };
}
