/**
 * Small ids for volume names, so that a LevelDB record (record-codec.ts) names each
 * replica's volume in a byte or two instead of its whole `host:port`. The table is a
 * sublevel, id → name, read whole at open (there are as many rows as volumes ever
 * used, never as many as keys) and never rewritten: an id, once given, keeps its name.
 *
 * A new id's row goes into the batch of every record that uses it until it is known
 * to be on disk (its own synced write, started when the id is given, has finished), so
 * no record is ever stored naming an id whose row is not stored with it or before it.
 */
import type { VolumeIdTable } from "./record-codec.ts";

/** The parts of a classic-level sublevel and batch this uses. */
interface IdSublevel {
  iterator(): AsyncIterable<[string, string]>;
  put(id: string, name: string, o: { sync: boolean }): Promise<void>;
}
interface IdBatch<S> {
  put(id: string, name: string, o: { sublevel: S }): unknown;
}

export class VolumeIds<S extends IdSublevel> implements VolumeIdTable {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  /** Ids given whose row may not be on disk yet. */
  private readonly unsaved = new Map<number, string>();

  constructor(private readonly sublevel: S) {}

  async load(): Promise<void> {
    for await (const [id, name] of this.sublevel.iterator()) {
      this.ids.set(name, Number(id));
      this.names[Number(id)] = name;
    }
  }

  idOf(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const id = this.names.length;
    this.ids.set(name, id);
    this.names[id] = name;
    this.unsaved.set(id, name);
    this.sublevel.put(String(id), name, { sync: true }).then(
      () => this.unsaved.delete(id),
      () => {}, // still unsaved: every batch using it keeps carrying its row
    );
    return id;
  }

  nameOf(id: number): string {
    const name = this.names[id];
    if (name === undefined) throw new Error(`index record: unknown volume id ${id}`);
    return name;
  }

  /** Adds the rows of ids not yet known to be on disk to `batch`. */
  addUnsaved(batch: IdBatch<S>): void {
    for (const [id, name] of this.unsaved) batch.put(String(id), name, { sublevel: this.sublevel });
  }
}
