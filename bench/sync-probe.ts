/**
 * What one durable small write costs on this disk, the floor under every PUT and
 * DELETE: a 1 KiB file written, fsynced, renamed and its directory fsynced (what a
 * volume does per value), and a LevelDB put with sync (what the master does per
 * state change). Each one at a time (latency) and 16 at once (ops/s: the disk and
 * LevelDB may group them). Bounded by count and time.
 */
import { ClassicLevel } from "classic-level";
import { mkdirSync, rmSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { join } from "node:path";

export interface SyncCost {
  what: string;
  /** Median latency, one at a time. */
  p50Ms: number;
  /** Operations per second, 16 at once. */
  parallelOpsPerSec: number;
}

const COUNT = 400;
const SECONDS = 4;

async function measure(op: (i: number) => Promise<void>): Promise<{ p50Ms: number; parallelOpsPerSec: number }> {
  const lat: number[] = [];
  let deadline = performance.now() + SECONDS * 1000;
  for (let i = 0; i < COUNT && performance.now() < deadline; i++) {
    const t0 = performance.now();
    await op(i);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  let next = COUNT;
  const start = performance.now();
  deadline = start + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 2 * COUNT && performance.now() < deadline) {
        await op(next++);
        done++;
      }
    }),
  );
  return { p50Ms: lat[lat.length >> 1], parallelOpsPerSec: done / ((performance.now() - start) / 1000) };
}

export async function syncProbe(dir: string): Promise<SyncCost[]> {
  const files = join(dir, "files");
  mkdirSync(join(files, "tmp"), { recursive: true });
  mkdirSync(join(files, "blobs"), { recursive: true });
  const data = Buffer.alloc(1024, 7);
  const db = new ClassicLevel<string, string>(join(dir, "leveldb"));
  await db.open();
  try {
    const file = await measure(async (i) => {
      const tmp = join(files, "tmp", String(i));
      const fh = await open(tmp, "wx");
      await fh.write(data);
      await fh.sync();
      await fh.close();
      await rename(tmp, join(files, "blobs", String(i)));
      const d = await open(join(files, "blobs"), "r");
      await d.sync();
      await d.close();
    });
    const record = JSON.stringify({ state: "live", volumes: ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"], size: 1024, md5: "0".repeat(32), time: 0 });
    const level = await measure((i) => db.put(`/bench/key/${i}`, record, { sync: true }));
    return [
      { what: "1 KiB file: write, fsync, rename, fsync dir", ...file },
      { what: "LevelDB put, sync", ...level },
    ];
  } finally {
    await db.close();
    rmSync(files, { recursive: true, force: true });
    rmSync(join(dir, "leveldb"), { recursive: true, force: true });
  }
}
