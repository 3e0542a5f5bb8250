/**
 * The cluster of a consistency run, on the harness's cluster builder (harness/cluster.ts):
 * three volumes, and two masters on one PostgreSQL database or one master on LevelDB,
 * each its own process, to kill, freeze and restart; the second master's clock under
 * libfaketime when the scenario skews it (clock-skew.ts).
 */
import { startCluster } from "../cluster.ts";
import { RUNTIMES } from "../kvdb.ts";
import { freshDatabase, type Postgres } from "../postgres.ts";
import type { ServerOptions } from "../server-options.ts";
import { MasterServer, type Server } from "../servers.ts";
import { skewed } from "./clock-skew.ts";

export type { Server };

/** A short lease and volume timeout, so that a fault passes within seconds. */
const SETTINGS: ServerOptions = { leaseSeconds: 3, timeoutMs: 2000 };

export interface RunCluster {
  masters: MasterServer[];
  volumes: Server[];
  /** The index's PostgreSQL, with two masters. */
  pg?: Postgres;
  /** Kills every server and removes what the cluster made. */
  close(): Promise<void>;
}

export interface RunClusterOptions {
  index: "postgres" | "leveldb";
  runtime: "node" | "binary";
  /** A PostgreSQL to make the database in (else one is started for the cluster). */
  pg?: Postgres;
  /** Where the data goes (a LazyFS mount); else a temp dir, removed by close(). */
  dir?: string;
  /** Runs the second master with its clock offset by what this file says. */
  skewFile?: string;
  /** The masters' --min-replicas. */
  minReplicas?: number;
  /** The masters serve S3 too (each on a port of its own: Server.s3). */
  s3?: boolean;
}

export async function startRunCluster(o: RunClusterOptions): Promise<RunCluster> {
  const two = o.index === "postgres";
  const db = two && o.pg ? freshDatabase(o.pg) : undefined;
  // With a database given, the builder starts no PostgreSQL of its own.
  const settings: ServerOptions = { ...SETTINGS, minReplicas: o.minReplicas, s3: o.s3 };
  const cluster = await startCluster({ ...settings, runtime: o.runtime, postgres: two && !db, db, dir: o.dir });
  const masters: MasterServer[] = [cluster.master];
  try {
    if (two) {
      const command = o.skewFile ? skewed(RUNTIMES[o.runtime], o.skewFile) : undefined;
      const names = () => cluster.volumes.map((v) => v.name);
      masters.push(await new MasterServer(cluster.db, names, { ...settings, runtime: o.runtime }, command).start());
    }
  } catch (e) {
    await cluster.close("SIGKILL");
    throw e;
  }
  return {
    masters,
    volumes: cluster.volumes,
    pg: o.pg ?? cluster.pg,
    async close() {
      await Promise.all(masters.slice(1).map((m) => m.stop("SIGKILL")));
      await cluster.close("SIGKILL");
    },
  };
}
