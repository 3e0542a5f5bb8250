/**
 * The composition roots of the serving commands: `kvdb master` (a master, and the S3
 * API on top of it when asked: master/ never imports s3/, s3/ sees the master only
 * through its values API, master/values.ts) and `kvdb server` (three volumes and that
 * master in one process, for a laptop or a test). The server's volumes listen on the
 * three ports after the master's; their names must stay the same across restarts,
 * since the index records where each value lives.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { isLoopback } from "./auth/exposure.ts";
import { serverCredentials } from "./auth/server-credentials.ts";
import type { Running } from "./http/running.ts";
import { serveMaster, type MasterOptions } from "./master/start.ts";
import { valuesOf } from "./master/values.ts";
import { announce, warnNoSecret } from "./observe/log.ts";
import { logger } from "./observe/logger.ts";
import { runtime } from "./runtime/mod.ts";
import { startS3, type S3Settings } from "./s3/start.ts";
import { checkSigV4 } from "./s3/curl-sigv4.ts";
import { newSecret } from "./signing/signing.ts";
import { startVolume } from "./volume/start.ts";
import { addressOf } from "./wire/address.ts";
import { trustCa, trustedCa } from "./runtime/tls.ts";

export interface MasterCommandOptions extends MasterOptions {
  /** Serve the S3 API too (src/s3/), on its own port. */
  s3?: S3Settings;
  /** `kvdb server`'s credentials file (auth/server-credentials.ts), named on the start line. */
  credentials?: string;
}

/** `kvdb master`: the master, S3 on top when asked, then the start line (which callers wait for). */
export async function startMaster(o: MasterCommandOptions): Promise<Running> {
  const master = await serveMaster({ sigv4: checkSigV4, ...o }); // SigV4 on the curl API too, S3's verifier
  const m = master.master;
  const s3 = o.s3 && (await startS3(valuesOf(m), m.stats, { ...o.s3, hostname: o.hostname, verbose: o.verbose, idleTimeoutMs: o.idleTimeoutMs, tls: o.tls }));
  if (!o.secret) warnNoSecret("master"); // before the start line
  const s3Fields: Record<string, string> = s3 ? { s3: s3.url, "s3-access-key": o.s3!.accessKey } : {};
  const credentials: Record<string, string> = o.credentials ? { credentials: o.credentials } : {};
  announce("master", { url: master.url, db: m.index.location, volumes: o.volumes.join(","), replicas: o.replicas, ...s3Fields, ...credentials, runtime: runtime.name });
  const down = m.volumes.all.filter((v) => !v.up).map((v) => v.name);
  if (down.length) logger("master").warn(`volumes not answering yet: ${down.join(",")}`, { volumes: down.join(",") });
  return {
    url: master.url,
    port: master.port,
    s3: s3?.url,
    async close() {
      await s3?.close();
      await master.close();
    },
  };
}

/** The master's options, less the volumes and the index, which the server makes itself. */
export interface ServerOptions extends Omit<MasterCommandOptions, "volumes" | "db"> {
  dir: string;
  /** Volumes refuse unsigned reads. */
  private?: boolean;
}

export const SERVER_VOLUMES = 3;

/**
 * `kvdb server`: three volumes, then the master on them (as `kvdb master`, S3 included).
 * A fresh data dir gets an admin key in its credentials file; on loopback the clients of
 * this machine need none unless --allow-anonymous says otherwise (docs/SECURITY.md).
 */
export async function startServer(o: ServerOptions): Promise<Running> {
  const dir = resolve(o.dir);
  const db = join(dir, "master");
  const fresh = !existsSync(db);
  const host = o.hostname === "0.0.0.0" ? "127.0.0.1" : o.hostname;
  const secret = o.secret ?? newSecret();
  // Its master calls its volumes over TLS: without --tls-ca, it trusts their certificate
  // itself (enough for a self-signed one; one a CA issued needs that CA: --tls-ca).
  if (o.tls && trustedCa === undefined) trustCa(o.tls.cert);
  const volumes: Running[] = [];
  for (let i = 1; i <= SERVER_VOLUMES; i++) {
    const port = o.port === 0 ? 0 : o.port + i;
    const { verbose, maxSize, idleTimeoutMs, tls } = o;
    volumes.push(await startVolume({ dir: join(dir, `volume${i}`), port, hostname: host, secret, private: o.private, verbose, maxSize, idleTimeoutMs, tls }));
  }
  const { dir: _, private: __, ...shared } = o;
  const { path, s3 } = await serverCredentials(dir, db, fresh, o.s3);
  const allowAnonymous = o.allowAnonymous ?? (isLoopback(o.hostname) ? "all" : undefined);
  // With a certificate the volumes serve TLS too, and the master calls them over it.
  const listed = volumes.map((v) => addressOf(`${host}:${v.port}`, !!o.tls));
  const master = await startMaster({ ...shared, allowAnonymous, s3, credentials: path, volumes: listed, db, secret });
  return {
    url: master.url,
    port: master.port,
    async close() {
      await master.close();
      await Promise.all(volumes.map((v) => v.close()));
    },
  };
}
