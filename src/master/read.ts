/**
 * GET/HEAD /key: a 302 to a healthy replica, from the index alone (no volume is
 * contacted on this path), through the app or before it (readDirect). With --proxy,
 * the master streams the body itself.
 */
import type { Context } from "hono";
import { fail } from "../http/errors.ts";
import { KEPT_HEADERS } from "../keys/fields.ts";
import { parseKey } from "../keys/keys.ts";
import { storedName } from "../keys/names.ts";
import type { BodylessAnswer } from "../runtime/fast-path.ts";
import type { Master } from "./master.ts";
import type { KeyRecord } from "./index/index.ts";

const FORWARDED = ["range", "if-none-match", "if-modified-since"];
const RETURNED = ["content-length", "content-range", "content-type", "accept-ranges", "last-modified", ...KEPT_HEADERS];

/**
 * Synchronous when the index is (LevelDB): the master's hottest path then answers
 * without a promise, and each answer is a plain-object Response (Hono's c.body would
 * build a Headers object for more than one header, which the Node adapter must turn
 * back into an object; docs/PERFORMANCE.md, "The Node master's redirects").
 */
export function read(m: Master, c: Context, key: string): Response | Promise<Response> {
  const found = m.index.get(key);
  return found instanceof Promise ? found.then((record) => answer(m, c, key, record)) : answer(m, c, key, found);
}

/**
 * A GET or HEAD answered before the app (runtime/fast-path.ts, Direct), as read() would
 * answer it: a key's 302 or 404, when the index has its record at once (LevelDB's
 * cache; master/app.ts offers this only on such an index). Anything else is left to the
 * app: a query (?list, ?unlinked), a path that is no key (400, the /_kvdb/ endpoints),
 * a key without a healthy replica (503), a stored key under --proxy (its body), and a
 * failing index (whose error the app renders and logs).
 */
export function readDirect(m: Master, target: string): BodylessAnswer | undefined {
  if (target.includes("?")) return undefined;
  const parsed = parseKey(target);
  if ("error" in parsed) return undefined;
  try {
    const found = m.index.get(parsed.key);
    // Never a promise on an index that reads at once; were it one, the app asks again.
    return found instanceof Promise ? void found.catch(() => {}) : redirectOrMiss(m, parsed.key, found);
  } catch {
    return undefined;
  }
}

function answer(m: Master, c: Context, key: string, record: KeyRecord | undefined): Response | Promise<Response> {
  const bodyless = redirectOrMiss(m, key, record);
  if (bodyless) return new Response(null, bodyless);
  // A live record with no healthy replica, or --proxy.
  if (!record!.volumes.some((v) => m.volumes.isUp(v))) return fail(c, 503, "no replica of this key is on a healthy volume");
  return proxy(m, c, key, record!, valueHeaders(record!));
}

/** 404 for a key with no live record; 302 to a healthy replica, unless --proxy or there is none (undefined). */
function redirectOrMiss(m: Master, key: string, record: KeyRecord | undefined): BodylessAnswer | undefined {
  if (!record || record.state !== "live") return { status: 404, headers: { "content-length": "0" } };
  if (m.proxy) return undefined;
  const up = record.volumes.filter((v) => m.volumes.isUp(v));
  if (!up.length) return undefined;
  const volume = up[Math.floor(Math.random() * up.length)];
  const location = m.client.readUrl(volume, storedName(key, record), record.s3?.type);
  return { status: 302, headers: valueHeaders(record, location) };
}

/**
 * The value's headers; with `location`, a redirect's whole set. One literal per shape:
 * under Node 20 spreading one object into another that then gains properties made V8
 * build a new hidden class on each call, ~4 µs a redirect (docs/PERFORMANCE.md, "The
 * master's small requests: profile").
 */
function valueHeaders(record: KeyRecord, location?: string): Record<string, string> {
  const md5 = record.md5;
  const volumes = record.volumes.join(",");
  if (location === undefined) return { "content-md5": md5, etag: `"${md5}"`, "key-volumes": volumes };
  return { "content-md5": md5, etag: `"${md5}"`, "key-volumes": volumes, location, "content-length": "0" };
}

/** Streams the value from the first replica that answers. */
async function proxy(m: Master, c: Context, key: string, record: KeyRecord, headers: Record<string, string>) {
  const ask: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = c.req.header(h);
    if (v) ask[h] = v;
  }
  const res = await readReplica(m, key, record, c.req.method, ask);
  if (!res) return fail(c, 503, `no replica of this key answered (${record.volumes.join(",")})`);
  const out: Record<string, string> = { ...headers };
  for (const h of RETURNED) {
    const v = res.headers.get(h);
    if (v) out[h] = v;
  }
  return new Response(res.body, { status: res.status, headers: out });
}

/**
 * The answer of the first healthy replica, tried in random order, to a GET or HEAD of
 * the value (`ask`: Range and the like), its body streaming; undefined if none answered.
 */
export async function readReplica(m: Master, key: string, record: KeyRecord, method: string, ask: Record<string, string>): Promise<Response | undefined> {
  const name = storedName(key, record);
  for (const volume of shuffle(record.volumes.filter((v) => m.volumes.isUp(v)))) {
    try {
      const res = await m.client.read(volume, name, method, ask);
      if (res.status < 500 && res.status !== 404) return res;
      await res.body?.cancel();
    } catch (e) {
      m.volumes.markDown(volume, (e as Error).message);
    }
  }
  return undefined;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
