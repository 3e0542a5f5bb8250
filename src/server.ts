/**
 * `kvdb server`: a master and three volumes in one process, for a laptop or a test.
 * Volumes listen on the three ports after the master's; their names must stay the
 * same across restarts, since the index records where each value lives.
 */
import { join, resolve } from "node:path";
import { startMaster, type MasterOptions } from "./master/start.ts";
import type { Running } from "./http/running.ts";
import { newSecret } from "./signing/signing.ts";
import { startVolume } from "./volume/start.ts";

/** The master's options, less the volumes and the index, which the server makes itself. */
export interface ServerOptions extends Omit<MasterOptions, "volumes" | "db"> {
  dir: string;
  /** Volumes refuse unsigned reads. */
  private?: boolean;
}

export const SERVER_VOLUMES = 3;

export async function startServer(o: ServerOptions): Promise<Running> {
  const dir = resolve(o.dir);
  const host = o.hostname === "0.0.0.0" ? "127.0.0.1" : o.hostname;
  const secret = o.secret ?? newSecret();
  const volumes: Running[] = [];
  for (let i = 1; i <= SERVER_VOLUMES; i++) {
    const port = o.port === 0 ? 0 : o.port + i;
    const { verbose, maxSize, idleTimeoutMs } = o;
    volumes.push(await startVolume({ dir: join(dir, `volume${i}`), port, hostname: host, secret, private: o.private, verbose, maxSize, idleTimeoutMs }));
  }
  const { dir: _, private: __, ...shared } = o;
  const master = await startMaster({ ...shared, volumes: volumes.map((v) => `${host}:${v.port}`), db: join(dir, "master"), secret });
  return {
    url: master.url,
    port: master.port,
    async close() {
      await master.close();
      await Promise.all(volumes.map((v) => v.close()));
    },
  };
}
