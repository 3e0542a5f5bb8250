/**
 * File calls on plain fds, as promises. Not FileHandles: a small PUT is mostly these
 * calls, and a FileHandle adds an object, a close tracker and a promise layer to each.
 */
import { close, fdatasync, fsync, open } from "node:fs";
import { promisify } from "node:util";
import { runtime } from "../runtime/mod.ts";
import { timed } from "./fsync-stats.ts";

export const openFd = promisify(open);
/** The runtime's fastest writev (runtime/types.ts): the bytes written. */
export const writevFd = (fd: number, chunks: Uint8Array[]) => runtime.writev(fd, chunks);
export const fsyncFd = timed(promisify(fsync));
export const fdatasyncFd = timed(promisify(fdatasync));
export const closeFd = promisify(close);

/** Makes directory entries durable (a rename into it, a new subdirectory): fsync of the directory. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = await openFd(dir, "r");
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}
