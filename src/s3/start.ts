/**
 * Serves the S3 API on its own port on top of a master (its values API, master/values.ts),
 * sweeps expired multipart uploads, and asks for the buckets' lifecycle runs. src/server.ts wires it onto the master.
 */
import { KEEP_ALIVE_MS } from "./keep-alive.ts";
import type { Running } from "../http/running.ts";
import { urlOf } from "../http/running.ts";
import type { Values } from "../master/values.ts";
import type { Registry } from "../observe/metrics.ts";
import { requestCounter, type RequestMetrics } from "../observe/request-metrics.ts";
import { runtime } from "../runtime/mod.ts";
import { s3App } from "./app.ts";
import type { Credentials } from "./auth.ts";
import { startExpiry } from "./expiry.ts";
import { DAY_MS } from "./lifecycle-dates.ts";
import { lifecycleMetrics, startLifecycle } from "./lifecycle-run.ts";
import { S3Keys } from "./keys.ts";
import { KeyStore } from "../auth/key-store.ts";
import type { AuthFailures } from "../auth/failures.ts";
import type { TlsFiles } from "../runtime/tls.ts";

/** S3's settings as the command line gives them (cli/s3-options.ts). */
export interface S3Settings extends Credentials {
  port: number;
  /** Multipart uploads older than this are removed with their parts; default 24 h. */
  uploadTtlMs?: number;
  /** See S3.keepAliveMs; default KEEP_ALIVE_MS. */
  keepAliveMs?: number;
  /** See S3.lifecycleDayMs; default a day. */
  lifecycleDayMs?: number;
  /** The keys were made up (`kvdb server` without them): kept in its credentials file. */
  madeUp?: boolean;
}

export interface S3Options extends S3Settings {
  hostname: string;
  verbose: boolean;
  idleTimeoutMs?: number;
  /** Serve HTTPS with this certificate (the master's). */
  tls?: TlsFiles;
}

export const UPLOAD_TTL_MS = 24 * 3600_000;

/**
 * `metrics`: the master's; S3's requests are counted in `requests` (role "s3") by the
 * runtime adapter, the lifecycle runs' tallies in `registry`, refusals at the door in
 * `authFailures` (auth/failures.ts).
 */
export async function startS3(values: Values, metrics: { requests: RequestMetrics; registry: Registry; authFailures?: AuthFailures }, o: S3Options): Promise<Running> {
  const creds = { accessKey: o.accessKey, secretKey: o.secretKey };
  // Its own cache of the index's keys: a change made through the master reaches S3 within KEY_CACHE_MS.
  const s = { values, creds, keys: new S3Keys(creds, new KeyStore(values.tables)), failures: metrics.authFailures, uploadTtlMs: o.uploadTtlMs ?? UPLOAD_TTL_MS, keepAliveMs: o.keepAliveMs ?? KEEP_ALIVE_MS, lifecycleDayMs: o.lifecycleDayMs ?? DAY_MS };
  const counter = requestCounter("s3", metrics.requests);
  const listener = await runtime.serve(s3App(s, o.verbose), { port: o.port, hostname: o.hostname, idleTimeoutMs: o.idleTimeoutMs, counter, tls: o.tls });
  const stopExpiry = startExpiry(s);
  const stopLifecycle = startLifecycle(s, lifecycleMetrics(metrics.registry));
  return {
    url: urlOf(o.hostname, listener.port, !!o.tls),
    port: listener.port,
    async close() {
      stopExpiry();
      stopLifecycle();
      await listener.close();
    },
  };
}
