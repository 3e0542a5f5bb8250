/**
 * Several masters serving one cluster: a fresh PostgreSQL (pg-server.ts), volumes and
 * the first master from startCluster, and more masters in this process on the same
 * database with the same volumes. `url` names each master in turn, so consecutive
 * requests of a test go to different masters, as behind a round-robin load balancer.
 */
import { startMaster } from "../src/master/start.ts";
import type { Running } from "../src/http/running.ts";
import { HOST, startCluster, type Cluster } from "./cluster.ts";
import { freshDatabase, startPostgres, type Postgres } from "./pg-server.ts";

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
