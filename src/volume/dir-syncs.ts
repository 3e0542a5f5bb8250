/**
 * Directory fsyncs, shared: a rename, unlink or mkdir in a directory is durable once
 * the directory is fsynced, and one fsync that starts after the change covers every
 * change made before it started. So callers that ask for the same directory while its
 * fsync runs wait for the next one together (src/durable/group-commit.ts).
 */
import { fsyncDir } from "./fd.ts";
import { GroupCommit } from "../durable/group-commit.ts";
import type { VolumeCounters } from "./counters.ts";

export class DirSyncs {
  private readonly groups = new Map<string, GroupCommit<void>>();

  constructor(private readonly counters: VolumeCounters) {}

  /** Resolves once every entry change made in `dir` before this call is on disk. */
  async sync(dir: string): Promise<void> {
    let group = this.groups.get(dir);
    if (!group) {
      group = new GroupCommit<void>(() => this.counters.timed("dir", () => fsyncDir(dir)));
      this.groups.set(dir, group);
    }
    try {
      await group.add();
    } finally {
      if (group.idle && this.groups.get(dir) === group) this.groups.delete(dir); // 65,536 blob dirs: keep only busy ones
    }
  }
}
