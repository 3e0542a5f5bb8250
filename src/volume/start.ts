/** Starts one volume server on a data dir. */
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { announce, warnNoSecret } from "../observe/log.ts";
import { runtime } from "../runtime/mod.ts";
import type { TlsFiles } from "../runtime/tls.ts";
import { urlOf, type Running } from "../http/running.ts";
import { Registry } from "../observe/metrics.ts";
import { requestCounter, requestMetrics } from "../observe/request-metrics.ts";
import { serverApp } from "../http/server-app.ts";
import { volumeApp } from "./app.ts";
import { registerVolumeMetrics } from "./metrics.ts";
import { Blobs } from "./blobs.ts";
import { Catalog } from "./catalog.ts";
import { VolumeCounters } from "./counters.ts";
import { DirSyncs } from "./dir-syncs.ts";
import { Space } from "./space.ts";
import { INLINE_MAX, Store } from "./store.ts";

export interface VolumeOptions {
  dir: string;
  port: number;
  hostname: string;
  verbose: boolean;
  secret?: string;
  previousSecret?: string;
  private?: boolean;
  /** Largest value accepted, in bytes: 413 beyond it. Default: no limit. */
  maxSize?: number;
  /** See ServeOptions.idleTimeoutMs; default 60 s. */
  idleTimeoutMs?: number;
  /** Capacity cap in bytes (--max-bytes): space reported and accepted is at most this. */
  maxBytes?: number;
  /**
   * Values of at most this many bytes are kept in the catalog instead of a file
   * (docs/VOLUME-STORAGE.md); 0 for none. Default: INLINE_MAX, the measured choice.
   */
  inlineMax?: number;
  /** Serve HTTPS with this certificate; see ServeOptions.tls. */
  tls?: TlsFiles;
}

export async function startVolume(o: VolumeOptions): Promise<Running> {
  const dir = resolve(o.dir);
  await mkdir(dir, { recursive: true });
  const counters = new VolumeCounters();
  const blobs = new Blobs(dir, new DirSyncs(counters), counters);
  await blobs.open();
  const catalog = new Catalog(join(dir, "catalog"), counters);
  await catalog.open();
  const cap = o.maxBytes === undefined ? undefined : { max: o.maxBytes, used: () => catalog.bytes };
  const store = new Store(catalog, blobs, new Space(blobs.root, cap), o.inlineMax ?? INLINE_MAX);
  const registry = new Registry();
  registerVolumeMetrics(registry, catalog);
  const { mount } = serverApp({ role: "volume", verbose: o.verbose, registry });
  const app = mount(volumeApp({ store, counters, verbose: o.verbose, secret: o.secret, previousSecret: o.previousSecret, private: o.private, maxSize: o.maxSize }));
  const listener = await runtime.serve(app, { ...o, counter: requestCounter("volume", requestMetrics(registry)) });
  const url = urlOf(o.hostname, listener.port, !!o.tls);
  if (!o.secret) warnNoSecret("volume"); // before the start line, which callers wait for
  announce("volume", { url, dir, keys: catalog.count, runtime: runtime.name, ...(o.private ? { private: "yes" } : {}) });
  return {
    url,
    port: listener.port,
    async close() {
      await listener.close();
      await catalog.close();
    },
  };
}
