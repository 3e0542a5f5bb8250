/**
 * The blob files of one volume: DIR/blobs/aa/bb/<sha256(key)>, written as
 * DIR/tmp/<random> → fsync → recorded in the catalog → rename → fsync(dir), so a crash
 * never leaves a half-written value under its real name, nor a file the catalog does
 * not list (verify and rebuild see only what the catalog lists). Temp files of a crash
 * are swept at start.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { blobPath } from "../keys/keys.ts";
import type { VolumeCounters } from "./counters.ts";
import type { DirSyncs } from "./dir-syncs.ts";
import { receive, type Written } from "./receive.ts";

export class Blobs {
  readonly root: string;
  readonly tmp: string;

  constructor(
    dir: string,
    private readonly dirs: DirSyncs,
    private readonly counters: VolumeCounters,
  ) {
    this.root = join(dir, "blobs");
    this.tmp = join(dir, "tmp");
  }

  async open(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
    await mkdir(this.tmp, { recursive: true });
    await mkdir(this.root, { recursive: true });
    await this.dirs.sync(dirname(this.root)); // blobs/ itself must survive a crash
    await this.makeTopDirs();
  }

  /**
   * The 256 aa dirs, made (and blobs/ fsynced) before the first PUT, so that a PUT into
   * a new aa/bb dir only needs aa fsynced, never blobs/ (docs/VOLUME-STORAGE.md: tens
   * of ms on a fresh volume, one readdir after). All 65,536 aa/bb dirs would cost
   * seconds and 257 MiB of directory blocks per volume: those are made as PUTs need them.
   */
  private async makeTopDirs(): Promise<void> {
    const have = new Set(await readdir(this.root));
    const missing = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0")).filter((aa) => !have.has(aa));
    if (!missing.length) return;
    await Promise.all(missing.map((aa) => mkdir(join(this.root, aa), { recursive: true })));
    await this.dirs.sync(this.root);
  }

  path(key: string): string {
    return join(this.root, blobPath(key));
  }

  /**
   * Streams `body` into a temp file and fsyncs it; `record` may refuse what arrived (by
   * throwing) or records it durably; only then is the file renamed into place and its
   * directory fsynced. If `body` or `record` fails, nothing is visible.
   */
  async write(key: string, body: AsyncIterable<Uint8Array>, record: (w: Written) => Promise<void>, givenMd5?: () => string): Promise<Written> {
    const tmp = join(this.tmp, randomUUID());
    try {
      const written = await receive(body, tmp, this.counters, givenMd5);
      await record(written);
      const final = this.path(key);
      // Most PUTs land in an existing aa/bb dir: create it only when the rename says so.
      await rename(tmp, final).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
        await this.makeDir(dirname(final));
        await rename(tmp, final);
      });
      await this.dirs.sync(dirname(final));
      return written;
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /**
   * mkdir of a blob's aa/bb dir, durably: a new directory's entry is only on disk once
   * its parent (aa, itself durable since open) is fsynced. The parent is synced even
   * when a concurrent PUT made the dir, since that PUT may not have synced it yet; the
   * fsync is shared with theirs (dir-syncs.ts).
   */
  private async makeDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await this.dirs.sync(dirname(dir));
  }

  /** Removes a blob file, durably; false if there was none. */
  async remove(key: string): Promise<boolean> {
    const path = this.path(key);
    try {
      await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
    await this.dirs.sync(dirname(path));
    return true;
  }
}
