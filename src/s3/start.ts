/** Serves the S3 API for a master on its own port, and sweeps expired multipart uploads. */
import { KEEP_ALIVE_MS } from "./keep-alive.ts";
import type { Running } from "../http/running.ts";
import { urlOf } from "../http/running.ts";
import type { Master } from "../master/master.ts";
import { runtime } from "../runtime/mod.ts";
import { s3App } from "./app.ts";
import type { Credentials } from "./auth.ts";
import { startExpiry } from "./expiry.ts";

export interface S3Options extends Credentials {
  port: number;
  hostname: string;
  verbose: boolean;
  /** Multipart uploads older than this are removed with their parts; default 24 h. */
  uploadTtlMs?: number;
  /** See S3.keepAliveMs; default KEEP_ALIVE_MS. */
  keepAliveMs?: number;
  idleTimeoutMs?: number;
}

export const UPLOAD_TTL_MS = 24 * 3600_000;

export async function startS3(m: Master, o: S3Options): Promise<Running> {
  const s = { m, creds: { accessKey: o.accessKey, secretKey: o.secretKey }, uploadTtlMs: o.uploadTtlMs ?? UPLOAD_TTL_MS, keepAliveMs: o.keepAliveMs ?? KEEP_ALIVE_MS };
  const listener = await runtime.serve(s3App(s, o.verbose), { port: o.port, hostname: o.hostname, idleTimeoutMs: o.idleTimeoutMs });
  const stopExpiry = startExpiry(s);
  return {
    url: urlOf(o.hostname, listener.port),
    port: listener.port,
    async close() {
      stopExpiry();
      await listener.close();
    },
  };
}
