/**
 * The blob files of one volume: DIR/blobs/aa/bb/<sha256(key)>, written as
 * DIR/tmp/<random> → fsync → rename → fsync(dir), so a crash never leaves a
 * half-written value under its real name. Temp files of a crash are swept at start.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, statfs, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DISCARD_MAX } from "../http/content-length.ts";
import { blobPath } from "../keys/keys.ts";
import { fsyncDir } from "./fd.ts";
import { receive, type Written } from "./receive.ts";


export class Blobs {
  readonly root: string;
  readonly tmp: string;
  /**
   * A capacity cap (--max-bytes): the volume reports at most `max` bytes of space and
   * refuses (ENOSPC, before the value is visible) a write that would pass it.
   */
  cap?: { max: number; used: () => number };

  constructor(dir: string) {
    this.root = join(dir, "blobs");
    this.tmp = join(dir, "tmp");
  }

  async open(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
    await mkdir(this.tmp, { recursive: true });
    await mkdir(this.root, { recursive: true });
    await fsyncDir(dirname(this.root)); // blobs/ itself must survive a crash
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
      const written = await receive(this.cap ? this.capped(body) : body, tmp);
      check(written);
      const final = this.path(key);
      // Most PUTs land in an existing aa/bb dir: create it only when the rename says so.
      await rename(tmp, final).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
        await this.makeDirs(dirname(final));
        await rename(tmp, final);
      });
      await fsyncDir(dirname(final));
      return written;
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /**
   * mkdir -p of a blob's aa/bb dir, durably: a new directory's entry in its parent is
   * only on disk once the parent is fsynced. The parents are synced even when a
   * concurrent PUT created the dirs, since that PUT may not have synced them yet.
   */
  private async makeDirs(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (let d = dir; d !== this.root; d = dirname(d)) await fsyncDir(dirname(d));
  }

  /** Removes a blob; false if there was none. */
  async remove(key: string): Promise<boolean> {
    try {
      await unlink(this.path(key));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  }

  private disk?: { at: number; space: Promise<{ total: number; free: number }> };

  /**
   * The disk's size and free space, read at most once a second: every PUT asks, and
   * a statfs per PUT showed in profiles. A write that outruns the figure still fails
   * cleanly (ENOSPC → 507, temp file removed).
   */
  private diskSpace(): Promise<{ total: number; free: number }> {
    if (!this.disk || Date.now() - this.disk.at > 1000) {
      const space = statfs(this.root).then((s) => ({ total: s.blocks * s.bsize, free: s.bavail * s.bsize }));
      space.catch(() => {});
      this.disk = { at: Date.now(), space };
    }
    return this.disk.space;
  }

  async space(): Promise<{ total: number; free: number }> {
    const disk = await this.diskSpace();
    if (!this.cap) return disk;
    return { total: Math.min(disk.total, this.cap.max), free: Math.max(0, Math.min(disk.free, this.cap.max - this.cap.used())) };
  }

  /**
   * The body, failing with ENOSPC once it passes the space the cap leaves. The rest of
   * the body (up to 64 MiB) is read and dropped first, so the sender hears a clean 507
   * at the end of its upload instead of a broken connection.
   */
  private async *capped(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const room = (await this.space()).free;
    let size = 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > room + DISCARD_MAX) break;
      if (size <= room) yield chunk;
    }
    if (size > room) throw Object.assign(new Error("over the volume's --max-bytes capacity"), { code: "ENOSPC" });
  }
}
