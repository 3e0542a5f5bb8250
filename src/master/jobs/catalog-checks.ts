/**
 * verify --quick's replica checks: instead of a re-hash per replica (GET /_kvdb/check),
 * the volumes' catalogs are asked in batches (POST /_kvdb/entries: one request per
 * volume for up to BATCH replicas), and no byte is read. The checks asked for in one
 * turn of the event loop go out together.
 */
import { setImmediate } from "node:timers";
import type { Checked, VolumeClient } from "../volume-client.ts";

const BATCH = 512;

interface Asked {
  name: string;
  resolve: (c: Checked) => void;
}

export class CatalogChecks {
  private readonly waiting = new Map<string, Asked[]>();

  constructor(private readonly client: VolumeClient) {}

  check(volume: string, name: string): Promise<Checked> {
    return new Promise((resolve) => {
      let queue = this.waiting.get(volume);
      if (!queue) {
        queue = [];
        this.waiting.set(volume, queue);
        setImmediate(() => this.flush(volume, queue!));
      }
      queue.push({ name, resolve });
      if (queue.length === BATCH) this.flush(volume, queue);
    });
  }

  private flush(volume: string, queue: Asked[]): void {
    if (this.waiting.get(volume) !== queue) return; // sent already (full)
    this.waiting.delete(volume);
    this.client.entries(volume, queue.map((a) => a.name)).then(
      (held) =>
        queue.forEach((a, i) => {
          const h = held[i];
          a.resolve(h ? { kind: "stored", size: h.size, md5: h.md5 } : { kind: "missing" });
        }),
      (e: Error) => queue.forEach((a) => a.resolve({ kind: "failed", detail: e.message })),
    );
  }
}
