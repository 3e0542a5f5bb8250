/**
 * The blob files of one volume: DIR/blobs/aa/bb/<sha256(key)>, written as
 * DIR/tmp/<random> → fsync → rename → fsync(dir), so a crash never leaves a
 * half-written value under its real name. Temp files of a crash are swept at start.
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, statfs } from "node:fs/promises";
import { dirname, join } from "node:path";
import { blobPath } from "../keys.ts";
import { receive, type Written } from "./receive.ts";

export class Blobs {
  readonly root: string;
  readonly tmp: string;

  constructor(dir: string) {
    this.root = join(dir, "blobs");
    this.tmp = join(dir, "tmp");
  }

  async open(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
    await mkdir(this.tmp, { recursive: true });
    await mkdir(this.root, { recursive: true });
  }

  path(key: string): string {
    return join(this.root, blobPath(key));
  }

  /**
   * Stores a body under `key` once it is complete and durable. `check` may reject
   * what arrived (say, fewer bytes than declared) before it becomes visible.
   */
  async write(key: string, body: AsyncIterable<Uint8Array>, check: (w: Written) => void): Promise<Written> {
    const tmp = join(this.tmp, randomUUID());
    try {
      const written = await receive(body, tmp);
      check(written);
      const final = this.path(key);
      await mkdir(dirname(final), { recursive: true });
      await rename(tmp, final);
      await fsyncDir(dirname(final));
      return written;
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** Removes a blob; false if there was none. */
  async remove(key: string): Promise<boolean> {
    try {
      await rm(this.path(key));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  }

  async space(): Promise<{ total: number; free: number }> {
    const s = await statfs(this.root);
    return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
  }
}

/** Makes a rename durable: the new directory entry is on disk once this returns. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
