/**
 * The master's view of its volumes: which answer (background health checks), how
 * big each is (placement weight), and where a key goes.
 */
import { rank } from "../keys/placement.ts";
import type { VolumeClient } from "./volume-client.ts";

export interface Volume {
  name: string;
  up: boolean;
  /** Placement weight: the volume's disk size in GiB (≥ 1). Free space changes too often to weigh by. */
  weight: number;
  total: number;
  free: number;
  count: number;
  error: string;
}

/** "http://h:p/" and "h:p" name the same volume. */
export function volumeName(s: string): string {
  return s.trim().replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

const CHECK_EVERY_MS = 1000;
/** Health checks that may fail in a row (without a refused connection) before a volume is marked down. */
const MISSES = 2;

/** Whether a call failed because nothing listens there (node:http's error or fetch's cause). */
function refused(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return (err.code ?? err.cause?.code) === "ECONNREFUSED";
}

export class VolumeSet {
  readonly all: Volume[];
  private byName = new Map<string, Volume>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Health checks failed in a row, per volume. */
  private readonly misses = new Map<string, number>();

  constructor(
    names: string[],
    private readonly client: VolumeClient,
  ) {
    this.all = names.map((name) => ({ name, up: false, weight: 1, total: 0, free: 0, count: 0, error: "not checked yet" }));
    for (const v of this.all) this.byName.set(v.name, v);
  }

  /** A listed volume's state; undefined for a volume not in the master's list. */
  get(volume: string): Volume | undefined {
    return this.byName.get(volume);
  }

  isUp(volume: string): boolean {
    return this.byName.get(volume)?.up ?? false;
  }

  markDown(volume: string, error: string): void {
    const v = this.byName.get(volume);
    if (v) Object.assign(v, { up: false, error });
  }

  /** Every volume in placement order for `key`, up or not. */
  placement(key: string): string[] {
    return rank(key, this.all);
  }

  async check(): Promise<void> {
    await Promise.all(this.all.map((v) => this.checkOne(v)));
  }

  private async checkOne(v: Volume): Promise<void> {
    try {
      const h = await this.client.health(v.name);
      Object.assign(v, { up: true, error: "", total: h.total, free: h.free, count: h.count });
      v.weight = Math.max(1, Math.round(h.total / 2 ** 30));
      this.misses.delete(v.name);
    } catch (e) {
      // A refused connection is a dead volume; one slow answer is a busy one (a disk
      // under load can hold statfs past the deadline): down after MISSES in a row.
      const misses = (this.misses.get(v.name) ?? 0) + 1;
      this.misses.set(v.name, misses);
      if (misses >= MISSES || refused(e) || !v.up) Object.assign(v, { up: false, error: (e as Error).message });
    }
  }

  /** Checks every second in the background, never two rounds at once. */
  start(): void {
    const loop = () => {
      this.timer = setTimeout(async () => {
        await this.check();
        if (!this.stopped) loop();
      }, CHECK_EVERY_MS);
      this.timer.unref?.();
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
