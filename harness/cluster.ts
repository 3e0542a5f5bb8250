/**
 * The cluster of tests and benchmarks: n volumes and m masters, in this process (the
 * default: fast) or each its own `kvdb` process under a runtime (ClusterOptions.runtime:
 * to kill -9, to freeze, to measure), with the index in LevelDB under the cluster's dir
 * or, for several masters, in a fresh PostgreSQL database. Started means ready (every
 * server started, harness/servers.ts); close() stops every server and removes the data.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { freshDatabase, startPostgres, type Postgres } from "./postgres.ts";
import { tempDir } from "./paths.ts";
import type { ServerOptions } from "./server-options.ts";
import { MasterServer, VolumeServer } from "./servers.ts";
import { bootstrapKey } from "../src/ops/keys.ts";

export interface ClusterOptions extends ServerOptions {
  /** Default 3. */
  volumes?: number;
  /** Default 1; several share a PostgreSQL index (`postgres` is then implied). */
  masters?: number;
  /** The cluster's data (default: a fresh temp dir, removed by close(); a given one is kept). */
  dir?: string;
  /** The masters' index (default: a LevelDB under dir, or a fresh PostgreSQL database). */
  db?: string;
  /** Start a PostgreSQL (harness/postgres.ts) for the index, stopped by close(). */
  postgres?: boolean;
  /** Authentication on: an admin key made in the index before the masters start (Cluster.token). */
  authenticated?: boolean;
  /** Commands replacing the runtime's for the masters or the first volume (say, node --cpu-prof). */
  commands?: { master?: readonly string[]; firstVolume?: readonly string[] };
}

export interface Cluster {
  /** A master's URL; with several masters, each in turn, as behind a round-robin load balancer. */
  readonly url: string;
  /** The first master's S3 endpoint, with ClusterOptions.s3. */
  readonly s3?: string;
  master: MasterServer;
  masters: MasterServer[];
  volumes: VolumeServer[];
  dir: string;
  db: string;
  /** The PostgreSQL of the index, when the cluster started one. */
  pg?: Postgres;
  /** With ClusterOptions.authenticated: the admin key's token (ID.SECRET). */
  token?: string;
  /** The first master's view of its volumes (GET /_kvdb/volumes). */
  health(): Promise<{ name: string; up: boolean; weight: number }[]>;
  /** One SQL statement on the index's PostgreSQL database (psql); its output, trimmed. */
  sql(statement: string): string;
  /**
   * Stops every server (processes with `signal`: SIGKILL unless given, SIGINT for a clean
   * stop that writes --cpu-prof profiles), then PostgreSQL, and removes the data.
   */
  close(signal?: NodeJS.Signals): Promise<void>;
}

export async function startCluster(o: ClusterOptions = {}): Promise<Cluster> {
  const dir = o.dir ?? tempDir(o.runtime && o.runtime !== "in-process" ? "kvdb-procs" : "kvdb");
  const pg = o.postgres || (o.masters ?? 1) > 1 ? await startPostgres() : undefined;
  const db = o.db ?? (pg ? freshDatabase(pg) : join(dir, "master"));
  const volumes = Array.from({ length: o.volumes ?? 3 }, (_, i) => new VolumeServer(join(dir, `v${i}`), o, i === 0 ? o.commands?.firstVolume : undefined));
  const names = () => volumes.map((v) => v.listed);
  const masters = Array.from({ length: o.masters ?? 1 }, () => new MasterServer(db, names, o, o.commands?.master));
  const close = async (signal?: NodeJS.Signals) => {
    for (const m of [...masters].reverse()) await m.stop(signal);
    await Promise.all(volumes.map((v) => v.stop(signal)));
    await pg?.close();
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  };
  let token: string | undefined;
  try {
    if (o.authenticated) token = /^token=(\S+)$/m.exec(await bootstrapKey(db, "cluster-admin", [{ level: "admin" }]))![1];
    const started = await Promise.allSettled(volumes.map((v) => v.start()));
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    // One after the other: the first makes a PostgreSQL index's tables.
    for (const m of masters) await m.start();
  } catch (e) {
    await close("SIGKILL");
    throw e;
  }
  let turn = 0;
  return {
    get url() {
      return masters[turn++ % masters.length].url;
    },
    get s3() {
      return masters[0].s3;
    },
    master: masters[0],
    masters,
    volumes,
    dir,
    db,
    pg,
    token,
    async health() {
      const res = await fetch(`${masters[0].url}/_kvdb/volumes`);
      if (res.status !== 200) throw new Error(`/_kvdb/volumes answered ${res.status}`);
      return (await res.json()) as { name: string; up: boolean; weight: number }[];
    },
    sql(statement) {
      if (!pg) throw new Error("sql(): this cluster's index is not in a PostgreSQL it started");
      return pg.psql(statement, new URL(db).pathname.slice(1)).trim();
    },
    close,
  };
}
