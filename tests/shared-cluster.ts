/**
 * Several masters serving one cluster on a fresh PostgreSQL (pg-server.ts), with the
 * same volumes:
 *   startSharedCluster  volumes and masters in this process; `url` names each master in
 *                       turn, so consecutive requests of a test go to different masters,
 *                       as behind a round-robin load balancer;
 *   startProcMasters    every master and volume its own `kvdb` process (to kill, to
 *                       freeze, or to keep this process's event loop out of their way).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startMaster } from "../src/server.ts";
import type { Running } from "../src/http/running.ts";
import { HOST } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { startCluster, type Cluster } from "./cluster.ts";
import { freshDatabase, startPostgres, type Postgres } from "./pg-server.ts";
import { MasterProc, VolumeProc } from "../harness/process-cluster.ts";

export interface SharedCluster extends Cluster {
  masters: Running[];
  pg: Postgres;
  db: string;
}

export async function startSharedCluster(o: { volumes?: number; replicas?: number; masters?: number } = {}): Promise<SharedCluster> {
  const pg = await startPostgres();
  try {
    const db = freshDatabase(pg);
    const first = await startCluster({ ...o, db });
    const masters: Running[] = [first.master];
    const log = console.log;
    console.log = () => {};
    try {
      while (masters.length < (o.masters ?? 2)) {
        const volumes = first.volumes.map((v) => v.name);
        masters.push(await startMaster({ volumes, db, port: 0, hostname: HOST, replicas: o.replicas ?? Math.min(3, volumes.length), proxy: false, verbose: false }));
      }
    } finally {
      console.log = log;
    }
    let turn = 0;
    return {
      get url() {
        return masters[turn++ % masters.length].url;
      },
      master: first.master,
      masters,
      volumes: first.volumes,
      dir: first.dir,
      pg,
      db,
      async close() {
        for (const m of masters.slice(1)) await m.close();
        await first.close();
        await pg.close();
      },
    };
  } catch (e) {
    await pg.close();
    throw e;
  }
}

export interface ProcMasters {
  pg: Postgres;
  db: string;
  volumes: VolumeProc[];
  masters: MasterProc[];
  /** One SQL statement on the index's database (psql); its output, trimmed. */
  sql(statement: string): string;
  /** Kills every process (SIGKILL), stops PostgreSQL, removes the data. */
  destroy(): Promise<void>;
}

/** Two master processes (with `extra` flags) and three volume processes, 3 replicas. */
export async function startProcMasters(extra: string[] = []): Promise<ProcMasters> {
  const pg = await startPostgres();
  const dir = tempDir("kvdb-masters");
  const db = freshDatabase(pg);
  const volumes = [0, 1, 2].map((i) => new VolumeProc(join(dir, `v${i}`)));
  const names = () => volumes.map((v) => v.name);
  const masters = [0, 1].map(() => new MasterProc(db, names, 3, extra));
  const destroy = async () => {
    await Promise.all([...masters, ...volumes].map((p) => p.child?.stop("SIGKILL")));
    await pg.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(volumes.map((v) => v.start()));
    for (const m of masters) await m.start();
  } catch (e) {
    await destroy();
    throw e;
  }
  return { pg, db, volumes, masters, sql: (statement) => pg.psql(statement, new URL(db).pathname.slice(1)).trim(), destroy };
}
