/** Makes directory entries durable (a rename into it, a new subdirectory): fsync of the directory. */
import { close, fsync, open } from "node:fs";
import { promisify } from "node:util";

const openFd = promisify(open);
const fsyncFd = promisify(fsync);
const closeFd = promisify(close);

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await openFd(dir, "r");
  try {
    await fsyncFd(fd);
  } finally {
    await closeFd(fd);
  }
}
