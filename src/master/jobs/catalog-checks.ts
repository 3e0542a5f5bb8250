/**
 * verify --quick's replica checks: instead of a re-hash per replica (GET /_kvdb/check),
 * the volumes' catalogs are asked in batches (POST /_kvdb/entries: one request per
 * volume for up to BATCH replicas), and no byte is read. The checks asked for in one
 * turn of the event loop go out together.
 */
import { setImmediate } from "node:timers";
import type { HeldReplica, VolumeClient } from "../volume-client.ts";

const BATCH = 512;

interface Asked {
  name: string;
  resolve: (held: HeldReplica) => void;
  reject: (e: unknown) => void;
}

export class CatalogChecks {
  private readonly waiting = new Map<string, Asked[]>();

  constructor(private readonly client: VolumeClient) {}

  /** What the volume's catalog holds of `name`, or null; throws the VolumeError of its batch. */
  check(volume: string, name: string): Promise<HeldReplica> {
    return new Promise((resolve, reject) => {
      let queue = this.waiting.get(volume);
      if (!queue) {
        queue = [];
        this.waiting.set(volume, queue);
        setImmediate(() => this.flush(volume, queue!));
      }
      queue.push({ name, resolve, reject });
      if (queue.length === BATCH) this.flush(volume, queue);
    });
  }

  private flush(volume: string, queue: Asked[]): void {
    if (this.waiting.get(volume) !== queue) return; // sent already (full)
    this.waiting.delete(volume);
    this.client.entries(volume, queue.map((a) => a.name)).then(
      (held) => queue.forEach((a, i) => a.resolve(held[i])),
      (e) => queue.forEach((a) => a.reject(e)),
    );
  }
}
