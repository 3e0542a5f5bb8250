/**
 * A volume's room: the disk's size and free space, or less under a capacity cap
 * (--max-bytes), where free = cap − bytes held (inline and file values alike).
 */
import { statfs } from "node:fs/promises";
import { DISCARD_MAX } from "../wire/content-length.ts";

/** How much of a body that does not fit is still read (and dropped) before the 507. */


export interface Room {
  total: number;
  free: number;
}

export class Space {
  private disk?: { at: number; room: Promise<Room> };

  /** `dir`: on the volume's disk. `cap`: at most `max` bytes, of which `used()` are held. */
  constructor(
    private readonly dir: string,
    private readonly cap?: { max: number; used: () => number },
  ) {}

  /**
   * The disk's size and free space, read at most once a second: every PUT asks, and
   * a statfs per PUT showed in profiles. A write that outruns the figure still fails
   * cleanly (ENOSPC → 507, nothing stored). `fresh`: read it now.
   */
  private diskRoom(fresh: boolean): Promise<Room> {
    if (fresh || !this.disk || Date.now() - this.disk.at > 1000) {
      const room = statfs(this.dir).then((s) => ({ total: s.blocks * s.bsize, free: s.bavail * s.bsize }));
      room.catch(() => {});
      this.disk = { at: Date.now(), room };
    }
    return this.disk.room;
  }

  /**
   * `fresh` for the health check, which is what the master places values by: a figure
   * up to a second old could still count a failed upload's file, removed since.
   */
  async room(fresh = false): Promise<Room> {
    const disk = await this.diskRoom(fresh);
    if (!this.cap) return disk;
    return { total: Math.min(disk.total, this.cap.max), free: Math.max(0, Math.min(disk.free, this.cap.max - this.cap.used())) };
  }

  /**
   * The body, failing with ENOSPC once it passes the room the cap leaves. The rest of
   * the body (up to 64 MiB) is read and dropped first, so the sender hears a clean 507
   * at the end of its upload instead of a broken connection.
   */
  capped(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    return this.cap ? this.overCap(body) : body;
  }

  private async *overCap(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const room = (await this.room()).free;
    let size = 0;
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > room + DISCARD_MAX) break;
      if (size <= room) yield chunk;
    }
    if (size > room) throw Object.assign(new Error("over the volume's --max-bytes capacity"), { code: "ENOSPC" });
  }
}
