/**
 * A cluster of `kvdb volume` and `kvdb master` child processes, each of which can be
 * killed and restarted on its port with its data, for crash and partition tests.
 */
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { HOST, spawnKvdb, type KvdbServer } from "./kvdb.ts";
import { tempDir } from "./paths.ts";

/**
 * Spawns kvdb with the args for `port`. On a fixed port (a restart), EADDRINUSE is retried
 * for a few seconds: while the server was down, an outgoing connection on this machine
 * may have been given its old port as a local (ephemeral) port for a moment.
 */
async function spawnOnPort(port: number, args: (port: number) => string[]): Promise<KvdbServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnKvdb(args(port));
    } catch (e) {
      if (port === 0 || attempt === 20 || !/EADDRINUSE/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Whether a running volume (`url`, no --private) holds `key` in either form, a file or
 * inline in its catalog (docs/VOLUME-STORAGE.md): its own answer to a HEAD.
 */
export async function volumeHolds(volume: { url: string }, key: string): Promise<boolean> {
  const res = await fetch(`${volume.url}${keyPath(key)}`, { method: "HEAD" });
  if (res.status !== 200 && res.status !== 404) throw new Error(`HEAD ${key} on ${volume.url}: ${res.status}`);
  return res.status === 200;
}

/** A kvdb volume run as a child process; restartable on the same port and dir. */
export class VolumeProc {
  child!: KvdbServer;
  constructor(readonly dir: string) {}

  get port(): number {
    return this.child.port;
  }
  get name(): string {
    return `${HOST}:${this.child.port}`;
  }
  get url(): string {
    return this.child.url;
  }

  async start(port = 0): Promise<this> {
    this.child = await spawnOnPort(port, (p) => ["volume", this.dir, "--port", String(p), "--host", HOST]);
    return this;
  }

  restart(): Promise<this> {
    return this.start(this.port);
  }

  /** True if the process is running. */
  get alive(): boolean {
    return this.child.proc.exitCode === null && this.child.proc.signalCode === null;
  }

  /** Files (names) in the volume's temp dir. */
  tmpFiles(): string[] {
    try {
      return readdirSync(join(this.dir, "tmp"));
    } catch {
      return [];
    }
  }

  /** Bytes in the volume's temp dir. */
  tmpBytes(): number {
    let n = 0;
    for (const f of this.tmpFiles()) {
      try {
        n += statSync(join(this.dir, "tmp", f)).size;
      } catch {
        // renamed or removed meanwhile
      }
    }
    return n;
  }

  /**
   * Whether the blob file for `key` exists on this volume's disk, running or not: only
   * values past the inline threshold have one (harness/data.ts fileSized).
   */
  hasBlob(key: string): boolean {
    try {
      statSync(join(this.dir, "blobs", blobPath(key)));
      return true;
    } catch {
      return false;
    }
  }
}

/** A master run as a child process; restartable on the same port and db. */
export class MasterProc {
  child!: KvdbServer;
  constructor(
    readonly db: string,
    readonly volumes: () => string[],
    readonly replicas: number,
    readonly extra: string[] = [],
  ) {}

  get url(): string {
    return this.child.url;
  }
  get port(): number {
    return this.child.port;
  }

  async start(port = 0): Promise<this> {
    this.child = await spawnOnPort(port, (p) => [
      "master",
      "--volumes",
      this.volumes().join(","),
      "--db",
      this.db,
      "--port",
      String(p),
      "--host",
      HOST,
      "--replicas",
      String(this.replicas),
      ...this.extra,
    ]);
    return this;
  }

  restart(): Promise<this> {
    return this.start(this.port);
  }
}

export interface ProcCluster {
  dir: string;
  volumes: VolumeProc[];
  master: MasterProc;
  /** The master's view of its volumes (GET /_kvdb/volumes). */
  health(): Promise<{ name: string; up: boolean; weight: number }[]>;
  /** Kills every process still running (SIGKILL) and removes the data. */
  destroy(): Promise<void>;
}

/** n volumes and a master, each its own `kvdb` process, data in a fresh temp dir. */
export async function startProcCluster(o: { volumes?: number; replicas?: number; master?: string[] } = {}): Promise<ProcCluster> {
  const dir = tempDir("kvdb-procs");
  const volumes = Array.from({ length: o.volumes ?? 3 }, (_, i) => new VolumeProc(join(dir, `v${i}`)));
  const master = new MasterProc(
    join(dir, "master"),
    () => volumes.map((v) => v.name),
    o.replicas ?? Math.min(3, volumes.length),
    o.master,
  );
  const destroy = async () => {
    await Promise.all([master, ...volumes].map((p) => p.child?.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(volumes.map((v) => v.start()));
    await master.start();
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    dir,
    volumes,
    master,
    async health() {
      const res = await fetch(`${master.url}/_kvdb/volumes`);
      if (res.status !== 200) throw new Error(`/_kvdb/volumes answered ${res.status}`);
      return (await res.json()) as { name: string; up: boolean; weight: number }[];
    },
    destroy,
  };
}
