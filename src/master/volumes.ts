/**
 * The master's view of its volumes: which answer (background health checks), how
 * big each is (placement weight), and where a key goes.
 */
import { rank } from "../keys/placement.ts";
import { parseVolumeSpec, spreadByZone } from "../keys/zones.ts";
import type { Health, VolumeClient } from "./volume-client.ts";
import type { VolumeError } from "./volume-error.ts";

export interface Volume {
  name: string;
  /** Its failure domain (keys/zones.ts): replicas of a key go to distinct zones first. */
  zone: string;
  up: boolean;
  /** Placement weight: the volume's disk size in GiB (≥ 1). Free space changes too often to weigh by. */
  weight: number;
  total: number;
  free: number;
  count: number;
  error: string;
  /** When it last answered a health check (ms since the epoch; 0: never), and how fast. */
  lastAnswer: number;
  latencyMs: number;
  /** What its health check says of it: runtime and version (empty until it answers). */
  runtime: string;
  version: string;
}

/** "http://h:p/", "https://h:p", "h:p" and "h:p=zone" name the same volume. */
export function volumeName(s: string): string {
  return parseVolumeSpec(s).name;
}

/** The names of the volumes listed as https:// (the volume client calls them over TLS). */
export function secureVolumes(listed: string[]): Set<string> {
  return new Set(listed.map(parseVolumeSpec).filter((v) => v.secure).map((v) => v.name));
}

const CHECK_EVERY_MS = 1000;
/** Health checks that may fail in a row (without a refused connection) before a volume is marked down. */
const MISSES = 2;

export class VolumeSet {
  readonly all: Volume[];
  private byName = new Map<string, Volume>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Health checks failed in a row, per volume. */
  private readonly misses = new Map<string, number>();

  /** @param listed each "host:port" or "host:port=zone" */
  constructor(
    listed: string[],
    private readonly client: VolumeClient,
  ) {
    this.all = listed.map(parseVolumeSpec).map(({ name, zone }) => ({
      name,
      zone,
      up: false,
      weight: 1,
      total: 0,
      free: 0,
      count: 0,
      error: "not checked yet",
      lastAnswer: 0,
      latencyMs: 0,
      runtime: "",
      version: "",
    }));
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

  zoneOf(volume: string): string {
    return this.byName.get(volume)?.zone ?? volume;
  }

  /**
   * The volumes in placement order for `key` (of those `usable`, default all): rendezvous
   * order, one volume per zone first.
   */
  placement(key: string, usable: (volume: string) => boolean = () => true): string[] {
    return spreadByZone(rank(key, this.all).filter(usable), (v) => this.zoneOf(v));
  }

  /** Checks in flight for recheck(), one per volume: many failed writes to a volume share one. */
  private rechecks = new Map<string, Promise<void>>();

  /** Checks one volume now (after a failed call to it): up or down, and its free space, fresh. */
  recheck(volume: string): Promise<void> {
    const v = this.byName.get(volume);
    if (!v) return Promise.resolve();
    let check = this.rechecks.get(volume);
    if (!check) {
      check = this.checkOne(v).finally(() => this.rechecks.delete(volume));
      this.rechecks.set(volume, check);
    }
    return check;
  }

  async check(): Promise<void> {
    await Promise.all(this.all.map((v) => this.checkOne(v)));
  }

  private async checkOne(v: Volume): Promise<void> {
    const t0 = performance.now();
    try {
      const h: Health = await this.client.health(v.name);
      const latencyMs = Math.round((performance.now() - t0) * 10) / 10;
      Object.assign(v, { up: true, error: "", total: h.total, free: h.free, count: h.count, lastAnswer: Date.now(), latencyMs });
      Object.assign(v, { runtime: h.runtime ?? "", version: h.version ?? "" });
      v.weight = Math.max(1, Math.round(h.total / 2 ** 30));
      this.misses.delete(v.name);
    } catch (e) {
      // A refused connection is a dead volume; one slow answer is a busy one (a disk
      // under load can hold statfs past the deadline): down after MISSES in a row.
      const misses = (this.misses.get(v.name) ?? 0) + 1;
      this.misses.set(v.name, misses);
      const failed = e as VolumeError;
      if (misses >= MISSES || failed.failure === "down" || !v.up) Object.assign(v, { up: false, error: failed.detail });
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
