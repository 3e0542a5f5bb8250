/**
 * What the master's JavaScript spends on a redirect or a miss answered before the app
 * (master/read.ts readDirect behind auth/curl-guard.ts guardedDirect), without HTTP: a
 * master built in-process on a LevelDB index, one key stored, its volume marked up, and
 * the runtime's `direct` called in a loop, without a key in the index and with one (every
 * call carrying its Bearer token). The process's CPU µs (user + system, its GC threads
 * included) per answer, rounds taking turns; run it under each
 * runtime:
 *
 *   npm run build && node dist/node/bench/direct-cost.js
 *   node_modules/.bin/deno run -A bench/direct-cost.ts
 *   node_modules/.bin/bun bench/direct-cost.ts
 */
import { rmSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { Access } from "../src/auth/access.ts";
import { AuthFailures } from "../src/auth/failures.ts";
import { KeyStore } from "../src/auth/key-store.ts";
import { newClientKey, tokenOf } from "../src/auth/keys.ts";
import { masterApp } from "../src/master/app.ts";
import type { Master } from "../src/master/master.ts";
import { buildMaster } from "../src/master/start.ts";
import type { Direct } from "../src/runtime/fast-path.ts";
import { tempDir } from "../harness/paths.ts";

const N = 200_000;
const ROUNDS = 5;
const VOLUME = "127.0.0.1:1";

/** A master with `/ab/there` stored on an up volume, and its direct answer; with `keyed`, a key in its index and its token. */
async function directOf(dir: string, keyed: boolean): Promise<Served> {
  const m = await buildMaster({ volumes: [VOLUME], db: join(dir, keyed ? "keyed" : "plain"), replicas: 1, proxy: false, busyWaitMs: 5000 });
  const live = { state: "live" as const, volumes: [VOLUME], size: 5, md5: "5d41402abc4b2a76b9719d911017c592", time: Date.now() };
  const writing = await m.index.create("/ab/there", { ...live, state: "writing" });
  if (!writing || !(await m.index.commit("/ab/there", writing, live))) throw new Error("could not store /ab/there");
  m.volumes.get(VOLUME)!.up = true;
  await m.index.get("/ab/there"); // into the index's cache, as a served master's first read puts it
  await m.index.get("/ab/missing");
  const store = new KeyStore(m.index.tables);
  let authorization: string | undefined;
  if (keyed) {
    const { id, key } = newClientKey("bench", [{ level: "admin" }]);
    await store.put(id, key);
    authorization = `Bearer ${tokenOf(id, key.secret)}`;
  }
  const access = new Access(store, keyed, undefined, new AuthFailures(m.stats.registry));
  const { app, direct } = masterApp(m, false, access);
  if (!direct) throw new Error("no direct answers on this index");
  return { m, direct, authorization, app: (target) => app.request(target, { headers: authorization ? { authorization } : {} }) };
}

interface Served {
  m: Master;
  direct: Direct;
  /** The app's answer, as the adapter asks for it when `direct` leaves a request to it. */
  app: (target: string) => Response | Promise<Response>;
  authorization?: string;
}

/**
 * µs per answer to a GET of `target`, expecting `status`: `direct`'s, or the app's when
 * direct leaves it to the app (as it does once every KEY_CACHE_MS, to look the key or
 * the index up again: auth/access.ts). The event loop runs between batches, as it does
 * between a server's requests.
 */
async function time(s: Served, target: string, status: number): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const answer = s.direct("GET", target, s.authorization)?.status ?? (await s.app(target)).status;
    if (answer !== status) throw new Error(`${target} answered ${answer}, not ${status}`);
    if (i % 1000 === 999) await new Promise((yielded) => setTimeout(yielded, 0));
  }
  const spent = process.cpuUsage(t0);
  return (spent.user + spent.system) / N;
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const dir = tempDir("kvdb-direct-cost");
const plain = await directOf(dir, false);
const keyed = await directOf(dir, true);
const rows: Record<string, number[]> = {};
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const took = {
      redirect: await time(plain, "/ab/there", 302),
      "redirect, token": await time(keyed, "/ab/there", 302),
      miss: await time(plain, "/ab/missing", 404),
      "miss, token": await time(keyed, "/ab/missing", 404),
    };
    for (const [k, v] of Object.entries(took)) (rows[k] ??= []).push(v);
    console.log(`${runtime} round ${round}: µs per answer: ${Object.entries(took).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
  }
} finally {
  await plain.m.index.close();
  await keyed.m.index.close();
  rmSync(dir, { recursive: true, force: true });
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`${runtime} medians: ${Object.entries(rows).map(([k, v]) => `${k} ${median(v).toFixed(2)}`).join(", ")}`);
