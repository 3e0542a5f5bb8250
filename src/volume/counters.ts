/**
 * What a volume counts about its durable writes, for a later metrics endpoint: the
 * fsyncs it made (per file, per directory, per catalog batch) and what they took, and
 * what it holds in each form. /_kvdb/health?counters shows them (app.ts).
 */

export type SyncKind = "file" | "dir" | "catalog";

interface Syncs {
  count: number;
  ms: number;
}

interface HeldForm {
  blobs: number;
  bytes: number;
}

/** Blobs and bytes held, inline (in the catalog) and as files. */
export class HeldByForm {
  readonly inline: HeldForm = { blobs: 0, bytes: 0 };
  readonly file: HeldForm = { blobs: 0, bytes: 0 };

  /** Counts a value in (`sign` 1) or out (-1). */
  count(value: { size: number; inline?: boolean }, sign: 1 | -1): void {
    const form = value.inline ? this.inline : this.file;
    form.blobs += sign;
    form.bytes += sign * value.size;
  }

  add(other: HeldByForm): void {
    for (const form of ["inline", "file"] as const) {
      this[form].blobs += other[form].blobs;
      this[form].bytes += other[form].bytes;
    }
  }

  get blobs(): number {
    return this.inline.blobs + this.file.blobs;
  }

  get bytes(): number {
    return this.inline.bytes + this.file.bytes;
  }
}

export class VolumeCounters {
  readonly syncs: Record<SyncKind, Syncs> = { file: { count: 0, ms: 0 }, dir: { count: 0, ms: 0 }, catalog: { count: 0, ms: 0 } };
  readonly held = new HeldByForm();

  /** Runs one fsync (or synced batch) of `kind`, counting it and its duration, failed or not. */
  async timed<T>(kind: SyncKind, sync: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await sync();
    } finally {
      this.syncs[kind].count++;
      this.syncs[kind].ms += performance.now() - t0;
    }
  }

  toJSON() {
    const syncs = (s: Syncs) => ({ count: s.count, ms: Math.round(s.ms * 1000) / 1000 });
    return {
      fsyncs: { file: syncs(this.syncs.file), dir: syncs(this.syncs.dir), catalog: syncs(this.syncs.catalog) },
      held: { inline: { ...this.held.inline }, file: { ...this.held.file } },
    };
  }
}
