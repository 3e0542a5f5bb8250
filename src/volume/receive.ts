/**
 * Streams a request body into a file, hashing it on the way, and fsyncs it.
 * Reads and disk writes overlap: one batch (≤ 1 MiB) is written while the next is
 * read, so memory stays at two batches whatever the value size.
 */
import { createHash } from "node:crypto";
import { close, fsync, open, writev } from "node:fs";
import { promisify } from "node:util";

const BATCH = 1 << 20;

// Plain fds, not FileHandles: a small PUT is mostly these calls, and FileHandle adds
// an object, a close tracker and a promise layer to each.
const openFd = promisify(open);
const writevFd = promisify(writev);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

export interface Written {
  size: number;
  md5: string;
}

/** writev may write less than asked (IOV_MAX, a full disk): write the rest. */
async function writeAll(fd: number, chunks: Uint8Array[], bytes: number): Promise<void> {
  while (bytes > 0) {
    const { bytesWritten } = await writevFd(fd, chunks);
    if (bytesWritten === 0) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    bytes -= bytesWritten;
    let skip = bytesWritten;
    while (chunks.length && skip >= chunks[0].byteLength) skip -= chunks.shift()!.byteLength;
    if (skip) chunks[0] = chunks[0].subarray(skip);
  }
}

export async function receive(body: AsyncIterable<Uint8Array>, path: string): Promise<Written> {
  const fd = await openFd(path, "wx");
  const hash = createHash("md5");
  let size = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      size += chunk.byteLength;
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= BATCH) {
        await writing;
        writing = writeAll(fd, batch, batchBytes);
        writing.catch(() => {}); // awaited below; no unhandled rejection meanwhile
        batch = [];
        batchBytes = 0;
      }
    }
    await writing;
    await writeAll(fd, batch, batchBytes);
    await fsyncFd(fd);
  } finally {
    await writing.catch(() => {});
    await closeFd(fd);
  }
  return { size, md5: hash.digest("hex") };
}
