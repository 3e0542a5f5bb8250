/**
 * Test clusters in this process: real masters and volumes on loopback ports (fast; for
 * kill -9 use harness/process-cluster.ts). Data lives in a fresh temp dir.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { HOST } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { startMaster, type MasterCommandOptions } from "../src/server.ts";
import type { Running } from "../src/http/running.ts";
import { startVolume } from "../src/volume/start.ts";

/** The S3 credentials of test clusters. */
export const S3_KEYS = { accessKey: "KVDBTESTACCESSKEY", secretKey: "kvdb-test-secret-key/with+signs" };

export interface Cluster {
  url: string;
  /** The S3 endpoint, when started with s3. */
  s3?: string;
  master: Running;
  volumes: (Running & { name: string; dir: string })[];
  dir: string;
  close(): Promise<void>;
}

/** n volumes and a master, all in this process. Quiet: start lines go nowhere. */
export async function startCluster(
  o: {
    volumes?: number;
    replicas?: number;
    proxy?: boolean;
    dir?: string;
    secret?: string;
    private?: boolean;
    urlTtl?: number;
    maxSize?: number;
    /** For masters and volumes alike. */
    idleTimeoutMs?: number;
    /** The master's volume timeout. */
    timeoutMs?: number;
    /** The master's --busy-wait, in ms. */
    busyWaitMs?: number;
    /** Serve S3 too (on a free port, with S3_KEYS); its URL is Cluster.s3. */
    s3?: boolean;
    /** See MasterCommandOptions.s3.uploadTtlMs. */
    s3UploadTtlMs?: number;
    /** See MasterCommandOptions.s3.keepAliveMs. */
    s3KeepAliveMs?: number;
    /** The master's index (default: a LevelDB under dir). */
    db?: string;
    /** The master's --direct-threshold (default: its own; null: off). */
    directThreshold?: number | null;
    /** The volumes' inline threshold (default: theirs; 0: every value a file). */
    inlineMax?: number;
  } = {},
): Promise<Cluster> {
  const dir = o.dir ?? tempDir();
  const log = console.log;
  const warn = console.error;
  console.log = console.error = () => {};
  try {
    const volumes: Cluster["volumes"] = [];
    for (let i = 0; i < (o.volumes ?? 3); i++) {
      const vdir = join(dir, `v${i}`);
      const v = await startVolume({ dir: vdir, port: 0, hostname: HOST, verbose: false, secret: o.secret, private: o.private, maxSize: o.maxSize, idleTimeoutMs: o.idleTimeoutMs, inlineMax: o.inlineMax });
      volumes.push({ ...v, name: `${HOST}:${v.port}`, dir: vdir });
    }
    const options: MasterCommandOptions = {
      volumes: volumes.map((v) => v.name),
      db: o.db ?? join(dir, "master"),
      port: 0,
      hostname: HOST,
      replicas: o.replicas ?? Math.min(3, volumes.length),
      proxy: o.proxy ?? false,
      verbose: false,
      secret: o.secret,
      urlTtl: o.urlTtl,
      maxSize: o.maxSize,
      idleTimeoutMs: o.idleTimeoutMs,
      timeoutMs: o.timeoutMs,
      busyWaitMs: o.busyWaitMs,
      directThreshold: o.directThreshold,
      s3: o.s3 ? { port: 0, ...S3_KEYS, uploadTtlMs: o.s3UploadTtlMs, keepAliveMs: o.s3KeepAliveMs } : undefined,
    };
    const master = await startMaster(options);
    return {
      url: master.url,
      s3: master.s3,
      master,
      volumes,
      dir,
      async close() {
        await master.close();
        await Promise.all(volumes.map((v) => v.close()));
        if (!o.dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } finally {
    console.log = log;
    console.error = warn;
  }
}

/** Polls `check` until it holds (a readiness check with a deadline, not a fixed sleep). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const checked = async () => {
    try {
      return await check();
    } catch (e) {
      // fetch's "fetch failed" hides what failed (refused, reset, closed): say it.
      const cause = (e as Error & { cause?: Error & { code?: string } }).cause;
      if (cause) throw new Error(`while waiting for ${what}: ${(e as Error).message}: ${cause.code ?? ""} ${cause.message}`, { cause: e });
      throw e;
    }
  };
  while (!(await checked())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
