/**
 * `kvdb server`: a master and three volumes in one process, for a laptop or a test.
 * Volumes listen on the three ports after the master's; their names must stay the
 * same across restarts, since the index records where each value lives.
 */
import { join, resolve } from "node:path";
import { startMaster } from "./master/start.ts";
import type { Running } from "./running.ts";
import { newSecret } from "./signing.ts";
import { startVolume } from "./volume/start.ts";

export interface ServerOptions {
  dir: string;
  port: number;
  hostname: string;
  replicas: number;
  proxy: boolean;
  verbose: boolean;
  timeoutMs?: number;
  /** Default: a fresh random secret shared by the master and its volumes. */
  secret?: string;
  private?: boolean;
  urlTtl?: number;
  maxSize?: number;
  idleTimeoutMs?: number;
}

export const SERVER_VOLUMES = 3;

export async function startServer(o: ServerOptions): Promise<Running> {
  const dir = resolve(o.dir);
  const host = o.hostname === "0.0.0.0" ? "127.0.0.1" : o.hostname;
  const secret = o.secret ?? newSecret();
  const volumes: Running[] = [];
  for (let i = 1; i <= SERVER_VOLUMES; i++) {
    const port = o.port === 0 ? 0 : o.port + i;
    volumes.push(await startVolume({ dir: join(dir, `volume${i}`), port, hostname: host, verbose: o.verbose, secret, private: o.private, maxSize: o.maxSize, idleTimeoutMs: o.idleTimeoutMs }));
  }
  const master = await startMaster({
    volumes: volumes.map((v) => `${host}:${v.port}`),
    db: join(dir, "master"),
    port: o.port,
    hostname: o.hostname,
    replicas: o.replicas,
    proxy: o.proxy,
    verbose: o.verbose,
    timeoutMs: o.timeoutMs,
    secret,
    urlTtl: o.urlTtl,
    maxSize: o.maxSize,
    idleTimeoutMs: o.idleTimeoutMs,
  });
  return {
    url: master.url,
    port: master.port,
    async close() {
      await master.close();
      await Promise.all(volumes.map((v) => v.close()));
    },
  };
}
