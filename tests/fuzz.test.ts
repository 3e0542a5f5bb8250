/**
 * A bounded, seeded fuzz of the HTTP surface against a real cluster (a master
 * and three volumes with a secret): random methods (odd ones too), paths (random bytes,
 * valid and broken percent-encodings, dot segments, //, long ones, reserved endpoints),
 * headers (Range, If-None-Match, Content-Length that lies, chunked framing) and bodies,
 * all sent over raw sockets so nothing normalises them.
 *
 * It checks: no 5xx at all (503 and 507 are the documented ones, and neither can happen
 * here), the servers keep answering, nothing is written outside the data dirs, every
 * value stored before reads back byte-exact, and so does every value the fuzz stored.
 *
 * The seed is printed; KVDB_FUZZ_SEED=<n> replays it, KVDB_FUZZ_COUNT=<n> sets the number
 * of requests (default 2000; the run also stops after 20 s).
 */
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { addr, bytes, filesUnder, md5, parseResponse, send } from "./http.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";

const SEED = Number(process.env.KVDB_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.KVDB_FUZZ_COUNT ?? 2000);
const BUDGET_MS = 20_000;
const WORKERS = 16;
const SECRET = "fuzz-secret-0123456789abcdef";

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => next() < p;
  const buf = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, chance, buf };
}
type Rng = ReturnType<typeof prng>;

let c: Cluster;
const known = new Map<string, Buffer>(); // key → value, stored before the fuzz
const locations: string[] = []; // signed volume URLs of known keys (path + query)
let tmpBefore: Set<string>;

test.before(async () => {
  tmpBefore = new Set(readdirSync(tmpdir()));
  // A short idle timeout ends the requests whose body never comes whole.
  c = await startCluster({ volumes: 3, replicas: 2, secret: SECRET, idleTimeoutMs: 2000, timeoutMs: 1000 });
  for (let i = 0; i < 20; i++) {
    const key = `/known/${i}/${["a", "ä b", "x%y", "q?z", "long".repeat(20)][i % 5]}`;
    const value = bytes(i === 0 ? 1 : 1 + ((i * 7919) % 70_000), 1000 + i);
    const res = await send(c.url, "PUT", keyPath(key), value);
    assert.is(res.status, 201, `storing ${key}`);
    known.set(key, value);
    const loc = new URL((await send(c.url, "GET", keyPath(key))).headers.location!);
    locations.push(loc.pathname + loc.search);
  }
});

test.after(async () => {
  await c?.close();
});

const METHODS = ["GET", "GET", "GET", "HEAD", "PUT", "PUT", "POST", "DELETE", "UNLINK", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "MKCOL", "FOO", "get", "G E T", "PURGE", "CONNECT", "M-SEARCH", "X".repeat(300)];
const SEGMENTS = [".", "..", "", "%2e", "%2E%2e", "%2f", "%2F..%2F", "%00", "%", "%zz", "%c3%28", "%ff", "%80", "%ed%a0%80", "%c0%af", "_kvdb", "%5Fkvdb", "a", "ä", "%C3%A4", "%20", "+", "~", ";", "a;b=c", "%25", "%u0041", "\\", "..\\..", "*"];
const RANGES = ["bytes=0-0", "bytes=1-2", "bytes=-1", "bytes=-0", "bytes=0-", "bytes=5-2", "bytes=0-1,2-3", "bytes=999999999-", "bytes=-99999999999999999999", "bytes=x-y", "bytes=", "items=0-1", "bytes=1.5-2", "BYTES=0-1", "bytes=" + "9".repeat(300) + "-"];

function randomSegment(r: Rng): string {
  switch (r.int(6)) {
    case 0:
      return r.pick(SEGMENTS);
    case 1: // percent-encoded random bytes (valid escapes, maybe not UTF-8)
      return [...r.buf(1 + r.int(6))].map((b) => "%" + b.toString(16).padStart(2, "0")).join("");
    case 2: // raw bytes straight into the request line (latin1)
      return r.buf(1 + r.int(4)).toString("latin1");
    case 3:
      return encodeURIComponent(String.fromCodePoint(((cp) => (cp >= 0xd800 && cp < 0xe000 ? cp + 0x800 : cp))(r.int(0x2ffff))));
    default:
      return Math.floor(r.next() * 1e9).toString(36);
  }
}

function randomPath(r: Rng, volume: boolean): string {
  const p = r.int(12);
  if (p === 0) return r.pick(locations); // a real (signed) volume URL
  if (p === 1) return r.pick(locations).replace(/sig=[^&]*/, "sig=" + r.int(1e9)); // tampered
  if (p === 2) return keyPath(r.pick([...known.keys()])); // a known key
  if (p === 3) return r.pick(["/_kvdb/health", "/_kvdb/list", "/_kvdb/volumes", "/_kvdb/", "/", "*", "http://evil/x", "/?list", "/known?list&limit=3", "/?unlinked", "/f?list&start=%ff", "/?list&limit=-1", "/?list&limit=abc"]);
  if (p === 4) return "/" + "k".repeat(900 + r.int(300)); // around the 1024-byte limit
  if (p === 5) return "/" + Array.from({ length: 1 + r.int(4) }, () => r.pick(SEGMENTS)).join("/");
  // mostly: a fuzz key under /f/, sometimes with odd segments
  const segs = Array.from({ length: 1 + r.int(3) }, () => (r.chance(0.7) ? Math.floor(r.next() * 36 ** 3).toString(36) : randomSegment(r)));
  let path = "/f/" + segs.join("/");
  if (r.chance(0.1)) path += "?" + r.pick(["list", "x=1", "sig=abc&exp=1", "%%", "a=%zz"]);
  if (volume && r.chance(0.2)) path = path.replace("/f/", "/");
  return path;
}

interface FuzzRequest {
  target: string; // base URL
  method: string;
  path: string;
  data: Buffer; // everything on the wire
  /** Half-close after sending. (Node, by default, then drops a request still being answered.) */
  halfClose: boolean;
  /** The value a 201 must have stored (undefined: no complete body was sent). */
  value?: Buffer;
  label: string;
}

function makeRequest(r: Rng): FuzzRequest {
  const volume = r.chance(0.3);
  const target = volume ? r.pick(c.volumes).url : c.url;
  let method = r.pick(METHODS);
  const path = randomPath(r, volume);
  // Never delete what the end of the test reads back.
  if ((method === "DELETE" || method === "UNLINK") && decoded(path).startsWith("/known")) method = "GET";
  const headers: string[] = [];
  if (r.chance(0.3)) headers.push(`Range: ${r.chance(0.8) ? r.pick(RANGES) : r.buf(8).toString("latin1")}`);
  if (r.chance(0.15)) headers.push(`If-None-Match: ${r.pick(["*", '"x"', "W/\"abc\"", `"${md5(r.pick([...known.values()]))}"`, ""])}`);
  if (r.chance(0.05)) headers.push(`X-${r.int(100)}: ${r.buf(20).toString("latin1").replace(/[\r\n]/g, "")}`);
  if (r.chance(0.03)) headers.push("Expect: 100-continue");
  let body = Buffer.alloc(0);
  let value: Buffer | undefined;
  let halfClose = r.chance(0.05);
  const withBody = method === "PUT" || method === "POST" || r.chance(0.1);
  if (withBody) {
    const payload = r.chance(0.1) ? Buffer.alloc(0) : r.buf(r.chance(0.8) ? 1 + r.int(2000) : 1 + r.int(200_000));
    switch (r.int(6)) {
      case 0: // chunked, well-formed
      case 1: {
        headers.push("Transfer-Encoding: chunked");
        const parts: Buffer[] = [];
        for (let i = 0; i < payload.length; ) {
          const n = Math.min(payload.length - i, 1 + r.int(5000));
          parts.push(Buffer.from(n.toString(16) + "\r\n"), payload.subarray(i, i + n), Buffer.from("\r\n"));
          i += n;
        }
        parts.push(Buffer.from("0\r\n\r\n"));
        body = Buffer.concat(parts);
        value = payload;
        break;
      }
      case 2: // chunked, broken framing
        headers.push("Transfer-Encoding: chunked");
        body = Buffer.concat([Buffer.from(r.pick(["zz\r\n", "5\r\nab", "-1\r\n", "ffffffffffffffff\r\n", "3\r\nabc\r\n"])), payload.subarray(0, 50)]);
        break;
      case 3: // a Content-Length that lies (shorter: the rest is garbage after the request; longer: EOF mid-body)
        if (r.chance(0.5)) {
          const n = Math.max(0, payload.length - 1 - r.int(10));
          headers.push(`Content-Length: ${n}`);
          value = payload.subarray(0, n); // the server reads n bytes; the rest is not this request's
        } else {
          headers.push(`Content-Length: ${payload.length + 1 + r.int(1000)}`);
          halfClose ||= r.chance(0.5); // else the idle timeout ends it
        }
        body = payload;
        break;
      case 4: // junk Content-Length
        const cl = r.pick(["-1", "abc", "1e3", " 12", "99999999999999999999", "0x10", "1,1", "", "18446744073709551616"]);
        headers.push(`Content-Length: ${cl}`);
        body = payload;
        if (cl === " 12" && payload.length >= 12) value = payload.subarray(0, 12); // leading whitespace is legal
        break;
      default: // honest Content-Length
        headers.push(`Content-Length: ${payload.length}`);
        body = payload;
        value = payload;
    }
    if (r.chance(0.03)) headers.push(`Content-Length: ${payload.length}`); // a duplicate
  }
  const { host, port } = addr(target);
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${headers.map((h) => h + "\r\n").join("")}Connection: close\r\n\r\n`;
  const data = Buffer.concat([Buffer.from(head, "latin1"), body]);
  const label = `${method.slice(0, 20)} ${JSON.stringify(path.slice(0, 80))} → ${volume ? "volume" : "master"} [${headers.map((h) => h.slice(0, 40)).join("; ")}] body ${body.length}`;
  return { target, method, path, data, value, label: label + (halfClose ? " half-closed" : ""), halfClose };
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path.split("?")[0]);
  } catch {
    return path;
  }
}

/** Sends the bytes, half-closes, and returns the status (null: closed without an answer). */
function fire(req: FuzzRequest, timeoutMs = 8000): Promise<{ status: number | null; headers: Record<string, string>; timedOut: boolean }> {
  const { host, port } = addr(req.target);
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      sock.destroy();
    }, timeoutMs);
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(timer);
      let raw = Buffer.concat(chunks);
      // Interim answers (100 Continue) come before the real one.
      while (/^HTTP\/1\.1 1\d\d /.test(raw.toString("latin1", 0, 13)) && raw.indexOf("\r\n\r\n") >= 0) raw = raw.subarray(raw.indexOf("\r\n\r\n") + 4);
      try {
        const r = parseResponse(raw);
        resolve({ status: r.status, headers: r.headers, timedOut });
      } catch {
        resolve({ status: null, headers: {}, timedOut });
      }
    });
    sock.on("connect", () => {
      sock.write(req.data);
      if (req.halfClose) sock.end();
    });
  });
}

test("fuzz: no 5xx, no crash, nothing outside the data dirs, every value intact", async () => {
  console.log(`fuzz seed ${SEED} (replay: KVDB_FUZZ_SEED=${SEED}), ${COUNT} requests`);
  const r = prng(SEED);
  const requests = Array.from({ length: COUNT }, () => makeRequest(r));
  // Requests on the same key run in order on one lane, so the test knows what a key holds.
  const lanes: FuzzRequest[][] = Array.from({ length: WORKERS }, () => []);
  for (const q of requests) lanes[Number.parseInt(md5(decoded(q.path)).slice(0, 8), 16) % WORKERS].push(q);

  const stored = new Map<string, Buffer>(); // what the fuzz stored (201) and did not delete
  const everStored = new Set<string>();
  // A whole body sent, but no answer (say, the client half-closed: Node then drops the
  // answer, not the request): stored or not, and if stored, byte-exact.
  const maybe = new Map<string, Buffer>();
  const bad: string[] = [];
  const statuses = new Map<string, number>();
  let sent = 0;
  const t0 = Date.now();
  await Promise.all(
    lanes.map(async (lane) => {
      for (const q of lane) {
        if (Date.now() - t0 > BUDGET_MS) return;
        const res = await fire(q);
        sent++;
        const s = String(res.status ?? (res.timedOut ? "timeout" : "closed"));
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        if (res.timedOut) bad.push(`no answer in 8 s: ${q.label}`);
        if (process.env.KVDB_FUZZ_VERBOSE) console.log(s, q.label);
        if (res.status !== null && res.status >= 500) bad.push(`${res.status}: ${q.label}`);
        if (q.target !== c.url) continue;
        const key = decoded(q.path);
        if (res.status === null) {
          if ((q.method === "PUT" || q.method === "POST") && q.value?.length && !stored.has(key) && !known.has(key)) {
            maybe.set(key, q.value);
            everStored.add(key);
          }
          if ((q.method === "DELETE" || q.method === "UNLINK") && stored.has(key)) {
            maybe.set(key, stored.get(key)!); // deleted or not, we cannot tell
            stored.delete(key);
          }
          continue;
        }
        if ((q.method === "PUT" || q.method === "POST") && res.status === 201) {
          if (!q.value) bad.push(`201 for a body that was not sent whole: ${q.label}`);
          else if (res.headers["content-md5"] !== md5(q.value)) bad.push(`201 with md5 ${res.headers["content-md5"]}, sent ${md5(q.value)}: ${q.label}`);
          else {
            stored.set(key, q.value);
            maybe.delete(key);
            everStored.add(key);
          }
        }
        if ((q.method === "DELETE" || q.method === "UNLINK") && (res.status === 204 || res.status === 202)) {
          stored.delete(key);
          maybe.delete(key);
        }
      }
    }),
  );
  const secs = (Date.now() - t0) / 1000;
  console.log(`fuzz: ${sent} requests in ${secs.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${stored.size} fuzz keys stored`);
  assert.ok(sent >= Math.min(COUNT, 500), `only ${sent} requests in ${BUDGET_MS} ms`);
  assert.equal(bad.slice(0, 20), [], `seed ${SEED}: ${bad.length} bad answers`);

  // The servers still answer.
  assert.is((await send(c.url, "GET", "/?list&limit=1")).status, 200);
  for (const v of c.volumes) assert.is((await send(v.url, "GET", "/no-such-key")).status, 404);

  // Every value reads back byte-exact (through the redirect to a volume).
  const check = async (key: string, value: Buffer) => {
    const res = await fetch(c.url + keyPath(key));
    const body = Buffer.from(await res.arrayBuffer());
    assert.is(res.status, 200, `seed ${SEED}: GET ${key}`);
    assert.ok(body.equals(value), `seed ${SEED}: ${key} reads back byte-exact (got ${body.length} bytes md5 ${md5(body)} from ${res.url}, want ${value.length} md5 ${md5(value)})`);
  };
  for (const [key, value] of known) await check(key, value);
  for (const [key, value] of stored) await check(key, value);
  const listedKeys = ((await (await fetch(`${c.url}/?list`)).json()) as { keys: string[] }).keys;
  for (const key of listedKeys.filter((k) => maybe.has(k))) await check(key, maybe.get(key)!);
  const settled = listedKeys.filter((k) => !maybe.has(k));
  assert.equal(settled.sort(), [...known.keys(), ...stored.keys()].sort(), `seed ${SEED}: the live keys are exactly the stored ones`);

  // Nothing outside the data dirs: the cluster's tree has only its own entries, every
  // blob file is a key's hash, no temp file is left, and no new non-kvdb temp dir appeared.
  assert.equal(readdirSync(c.dir).sort(), ["master", "v0", "v1", "v2"]);
  const allowed = new Set([...known.keys(), ...everStored].map(blobPath));
  for (const v of c.volumes) {
    assert.equal(readdirSync(v.dir).sort(), ["blobs", "catalog", "tmp"], `${v.name} dir`);
    assert.equal(filesUnder(join(v.dir, "tmp")), [], `${v.name} tmp`);
    for (const f of filesUnder(join(v.dir, "blobs"))) assert.ok(allowed.has(f), `${v.name}: unexpected file blobs/${f}`);
  }
  const newTmp = readdirSync(tmpdir()).filter((f) => !tmpBefore.has(f) && !/^kvdb/.test(f));
  assert.equal(newTmp, [], "no new files in the temp root");
});

test.run();
