/**
 * What a volume's small PUT costs, and what a leaner sequence of calls would save:
 * stores 1 KiB values 16 at once, the way src/volume does today and in leaner
 * variants, and prints values/s and CPU per value (all threads, user + system, from
 * process.cpuUsage). This disk is erratic, so the variants take turns, ROUNDS times,
 * and the medians are printed. Bounded: at most 2000 values or 2 s per turn.
 *   node dist/node/bench/small-write-probe.js [dir]
 */
import { ClassicLevel } from "classic-level";
import { createHash, randomUUID } from "node:crypto";
import { close, closeSync, fdatasync, fsync, mkdirSync, open, openSync, renameSync, rmSync, write, writeSync } from "node:fs";
import { mkdir, open as openHandle, rename, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { promisify } from "node:util";

const COUNT = 2000;
const SECONDS = 2;
const ROUNDS = 3;
const CONCURRENCY = 16;
const value = Buffer.alloc(1024, 7);
const openFd = promisify(open);
const writeFd = (fd: number, b: Buffer) => new Promise<void>((resolve, reject) => write(fd, b, (e) => (e ? reject(e) : resolve())));
const fsyncFd = promisify(fsync);
const fdatasyncFd = promisify(fdatasync);
const closeFd = promisify(close);

interface Variant {
  name: string;
  store(root: string, db: ClassicLevel<string, string>, key: string, dirFds: Map<string, number>): Promise<void>;
}

const pathOf = (root: string, key: string) => {
  const h = createHash("sha256").update(key).digest("hex");
  return join(root, "blobs", h.slice(0, 2), h.slice(2, 4), h);
};
const entry = JSON.stringify({ size: 1024, md5: "0".repeat(32), time: 0 });

/** The trimmed store sequence; `syncCatalog`: whether the catalog put is synced too. */
function lean(name: string, syncCatalog: boolean): Variant {
  return {
    name,
    async store(root, db, key, dirFds) {
      const tmp = join(root, "tmp", randomUUID());
      const fd = await openFd(tmp, "wx");
      await writeFd(fd, value);
      await fdatasyncFd(fd);
      await closeFd(fd);
      const final = pathOf(root, key);
      const dir = dirname(final);
      let dfd = dirFds.get(dir);
      if (dfd === undefined) {
        await mkdir(dir, { recursive: true });
        dfd = await openFd(dir, "r");
        dirFds.set(dir, dfd);
      }
      await rename(tmp, final);
      await fsyncFd(dfd);
      await db.put(key, entry, { sync: syncCatalog });
    },
  };
}

const variants: Variant[] = [
  {
    name: "as src/volume does it: statfs, FileHandle open/writev/sync/close, mkdir -p, rename, open+fsync+close dir, catalog get + put(sync)",
    async store(root, db, key) {
      await statfs(root);
      const tmp = join(root, "tmp", randomUUID());
      const fh = await openHandle(tmp, "wx");
      await fh.writev([value]);
      await fh.sync();
      await fh.close();
      const final = pathOf(root, key);
      await mkdir(dirname(final), { recursive: true });
      await rename(tmp, final);
      const d = await openHandle(dirname(final), "r");
      await d.sync();
      await d.close();
      await db.get(key);
      await db.put(key, entry, { sync: true });
    },
  },
  lean("lean: no statfs, raw fds, fdatasync, known dirs not re-created, dir fds kept open, catalog put(sync) without the get", true),
  {
    name: "metadata calls synchronous on the main thread (open, write, close, rename, mkdir on ENOENT): only the fsyncs and the catalog put go to the thread pool",
    async store(root, db, key) {
      const tmp = join(root, "tmp", randomUUID());
      const fd = openSync(tmp, "wx");
      writeSync(fd, value);
      await fsyncFd(fd);
      closeSync(fd);
      const final = pathOf(root, key);
      try {
        renameSync(tmp, final);
      } catch {
        mkdirSync(dirname(final), { recursive: true });
        renameSync(tmp, final);
      }
      const dfd = openSync(dirname(final), "r");
      await fsyncFd(dfd);
      closeSync(dfd);
      db.getSync(key);
      await db.put(key, entry, { sync: true });
    },
  },
  lean("lean, catalog put without sync (the blob file and its dir entry are already durable)", false),
  {
    name: "small value inline in the catalog: one LevelDB put(sync), no file (LevelDB groups concurrent syncs)",
    async store(_root, db, key) {
      await db.put(key, entry + value.toString("latin1"), { sync: true });
    },
  },
];

export interface ProbeResult {
  name: string;
  perSecond: number;
  cpuUsPerValue: number;
  systemUsPerValue: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function turn(v: Variant, root: string, db: ClassicLevel<string, string>, dirFds: Map<string, number>, round: number) {
  let next = 0;
  let done = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < COUNT && performance.now() < deadline) {
        await v.store(root, db, `/probe/${round}/${next++}`, dirFds);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: done / seconds, cpuUsPerValue: (cpu.user + cpu.system) / done, systemUsPerValue: cpu.system / done };
}

export async function smallWriteProbe(base: string): Promise<ProbeResult[]> {
  const state = await Promise.all(
    variants.map(async (v, i) => {
      const root = join(base, `v${i}`);
      mkdirSync(join(root, "tmp"), { recursive: true });
      mkdirSync(join(root, "blobs"), { recursive: true });
      const db = new ClassicLevel<string, string>(join(root, "catalog"));
      await db.open();
      return { v, root, db, dirFds: new Map<string, number>(), turns: [] as Awaited<ReturnType<typeof turn>>[] };
    }),
  );
  try {
    // Warm up the dirs a long-running volume already has.
    for (const s of state) for (let k = 0; k < 200; k++) await s.v.store(s.root, s.db, `/warm/${k}`, s.dirFds);
    for (let round = 0; round < ROUNDS; round++) for (const s of state) s.turns.push(await turn(s.v, s.root, s.db, s.dirFds, round));
    return state.map((s) => ({
      name: s.v.name,
      perSecond: median(s.turns.map((t) => t.perSecond)),
      cpuUsPerValue: median(s.turns.map((t) => t.cpuUsPerValue)),
      systemUsPerValue: median(s.turns.map((t) => t.systemUsPerValue)),
    }));
  } finally {
    for (const s of state) {
      for (const fd of s.dirFds.values()) await closeFd(fd);
      await s.db.close();
      rmSync(s.root, { recursive: true, force: true });
    }
  }
}

if (process.argv[1]?.endsWith("small-write-probe.js")) {
  const base = join(process.argv[2] ?? tmpdir(), `kvdb-small-write-${process.pid}`);
  try {
    for (const r of await smallWriteProbe(base)) {
      const n = (x: number, w: number) => Math.round(x).toString().padStart(w);
      console.log(`${n(r.perSecond, 6)}/s  ${n(r.cpuUsPerValue, 5)} µs CPU/value (${n(r.systemUsPerValue, 5)} system)  ${r.name}`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
