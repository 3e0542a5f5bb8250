/**
 * Streams a request body into a file, hashing it on the way, and fsyncs it.
 * Reads and disk writes overlap: one batch (≤ 1 MiB) is written while the next is
 * read, so memory stays at two batches whatever the value size.
 */
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";

const BATCH = 1 << 20;

export interface Written {
  size: number;
  md5: string;
}

/** writev may write less than asked (IOV_MAX, a full disk): write the rest. */
async function writeAll(fh: FileHandle, chunks: Uint8Array[], bytes: number): Promise<void> {
  while (bytes > 0) {
    const { bytesWritten } = await fh.writev(chunks);
    if (bytesWritten === 0) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
    bytes -= bytesWritten;
    let skip = bytesWritten;
    while (chunks.length && skip >= chunks[0].byteLength) skip -= chunks.shift()!.byteLength;
    if (skip) chunks[0] = chunks[0].subarray(skip);
  }
}

export async function receive(body: AsyncIterable<Uint8Array>, path: string): Promise<Written> {
  const fh = await open(path, "wx");
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
        writing = writeAll(fh, batch, batchBytes);
        writing.catch(() => {}); // awaited below; no unhandled rejection meanwhile
        batch = [];
        batchBytes = 0;
      }
    }
    await writing;
    await writeAll(fh, batch, batchBytes);
    await fh.sync();
  } finally {
    await writing.catch(() => {});
    await fh.close();
  }
  return { size, md5: hash.digest("hex") };
}
