/**
 * Hostile clients: --max-size (413 from Content-Length before the body, and
 * a chunked body cut as soon as it passes the limit), headers trickled in (slow-loris)
 * and uploads that stop mid-body are cut by the idle/headers timeouts while other
 * clients keep being served, hundreds of concurrent sockets, and 200 aborted uploads
 * plus aborted downloads that leave no temp file, no key and no leaked descriptor.
 */
import { readdirSync } from "node:fs";
import { once } from "node:events";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { addr, bytes, filesUnder, md5, parseResponse, send, slowPut, type RawResponse } from "./http.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

const MAX = 1000;
const IDLE_MS = 1500;

// --max-size 1000 on master and volumes; idle timeout 1.5 s (headers: 1.5 s). Every value
// a file (no inline values): the cuts are seen as the temp files of uploads in flight.
let c: Cluster;

test.before(async () => {
  c = await startCluster({ volumes: 3, maxSize: MAX, idleTimeoutMs: IDLE_MS, timeoutMs: 1000, inlineMax: 0 });
});

test.after(async () => {
  await c?.close();
});

const tmpEmpty = () => c.volumes.every((v) => filesUnder(join(v.dir, "tmp")).length === 0);
const tmpCount = () => c.volumes.reduce((n, v) => n + filesUnder(join(v.dir, "tmp")).length, 0);
const listed = async () => ((await (await fetch(`${c.url}/?list`)).json()) as { keys: string[] }).keys;

/** A raw socket that resolves with the first complete response (head + Content-Length body) or null if closed first. */
function rawFirst(url: string, data: string | Buffer, timeoutMs = 5000): { sock: Socket; answer: Promise<RawResponse | null> } {
  const { host, port } = addr(url);
  const sock = connect({ host, port });
  let buf = Buffer.alloc(0);
  const answer = new Promise<RawResponse | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (r: RawResponse | null) => {
      clearTimeout(timer);
      resolve(r);
    };
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const sep = buf.indexOf("\r\n\r\n");
      if (sep < 0) return;
      const r = parseResponse(buf);
      if (r.body.length >= Number(r.headers["content-length"] ?? 0)) finish(r);
    });
    sock.on("error", () => {});
    sock.on("close", () => finish(buf.indexOf("\r\n\r\n") >= 0 ? parseResponse(buf) : null));
  });
  sock.write(data);
  return { sock, answer };
}

test("--max-size: a declared Content-Length over the limit → 413 before any body byte", async () => {
  // Only the head is sent: the answer must not wait for a body.
  const { sock, answer } = rawFirst(c.url, `PUT /big/declared HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX + 1}\r\n\r\n`);
  const res = await answer;
  sock.destroy();
  assert.ok(res, "an answer came");
  assert.is(res!.status, 413);
  assert.match(res!.body.toString(), /^[^\n]*max-size[^\n]*\n$/);
  assert.is((await send(c.url, "PUT", "/big/exact", bytes(MAX))).status, 201, "exactly the limit is fine");
  assert.is((await send(c.url, "GET", "/big/declared")).status, 404);
  assert.is((await send(c.url, "DELETE", "/big/exact")).status, 204);
});

test("--max-size: a chunked body is cut as soon as it passes the limit → 413, nothing stored", async () => {
  const up = slowPut(c.url, "/big/chunked"); // no Content-Length: node:http sends it chunked
  await up.write(bytes(600, 1));
  await up.write(bytes(600, 2)); // 1200 > 1000
  const res = await up.response.catch((e: Error) => e);
  up.abort();
  if (!(res instanceof Error)) assert.is(res.status, 413);
  else assert.unreachable(`no 413: ${res.message}`);
  await until("temp files are gone", tmpEmpty);
  assert.is((await send(c.url, "GET", "/big/chunked")).status, 404);
  assert.equal(await listed(), []);
});

test("--max-size on a volume too (defence in depth): 413 by Content-Length and by chunked growth", async () => {
  const v = c.volumes[0];
  const { sock, answer } = rawFirst(v.url, `PUT /v/declared HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MAX}\r\n\r\n`);
  assert.is((await answer)?.status, 413);
  sock.destroy();
  const up = slowPut(v.url, "/v/chunked");
  await up.write(bytes(800, 3));
  await up.write(bytes(800, 4));
  const res = await up.response;
  up.abort();
  assert.is(res.status, 413);
  await until("temp files are gone", tmpEmpty);
  assert.is((await send(v.url, "GET", "/v/chunked")).status, 404);
  assert.is((await send(v.url, "GET", "/v/declared")).status, 404);
});

/** Opens a socket and trickles a request head one byte every `everyMs`, forever; resolves when the server closes it. */
function slowLoris(url: string, everyMs = 150): { closed: Promise<{ ms: number; status: number | null }>; stop(): void } {
  const { host, port } = addr(url);
  const sock = connect({ host, port });
  const head = Buffer.from(`GET /loris HTTP/1.1\r\nHost: ${host}\r\n` + "X-Slow: " + "a".repeat(10_000));
  const t0 = Date.now();
  let i = 0;
  let got = Buffer.alloc(0);
  const timer = setInterval(() => {
    if (!sock.destroyed && i < head.length) sock.write(head.subarray(i, ++i));
  }, everyMs);
  sock.on("data", (d: Buffer) => (got = Buffer.concat([got, d])));
  sock.on("error", () => {});
  const closed = new Promise<{ ms: number; status: number | null }>((resolve) =>
    sock.once("close", () => {
      clearInterval(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got.toString("latin1"));
      resolve({ ms: Date.now() - t0, status: m ? Number(m[1]) : null });
    }),
  );
  return { closed, stop: () => sock.destroy() };
}

/** A PUT that sends part of its declared body, then goes silent. */
async function idleUpload(url: string, path: string): Promise<{ closed: Promise<number> }> {
  const { host, port } = addr(url);
  const sock = connect({ host, port });
  await once(sock, "connect");
  sock.on("error", () => {});
  const t0 = Date.now();
  const closed = new Promise<number>((resolve) => sock.once("close", () => resolve(Date.now() - t0)));
  sock.write(`PUT ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${MAX}\r\n\r\n`);
  sock.write(bytes(100, 7));
  return { closed };
}

test("slow-loris headers and idle uploads are cut; other clients are served meanwhile", async () => {
  const loris = [...Array.from({ length: 10 }, () => slowLoris(c.url)), ...Array.from({ length: 5 }, () => slowLoris(c.volumes[1].url))];
  // Ten to the master, which reads a small value whole before any volume sees it (the
  // batches of master/batches.ts); ten straight to the volumes, which write temp files.
  const idle = await Promise.all([
    ...Array.from({ length: 10 }, (_, i) => idleUpload(c.url, `/idle/${i}`)),
    ...Array.from({ length: 10 }, (_, i) => idleUpload(c.volumes[i % 3].url, `/idle-on-volume/${i}`)),
  ]);
  await until("the idle uploads to the volumes reached them", () => tmpCount() === 10);
  // While they hang, honest clients get prompt answers.
  let served = 0;
  const stillHanging = () => served < 10;
  for (let i = 0; stillHanging(); i++) {
    const t0 = Date.now();
    const body = bytes(200, 100 + i);
    assert.is((await send(c.url, "PUT", `/honest/${i}`, body)).status, 201);
    const got = await send(c.url, "GET", `/honest/${i}`);
    assert.is(got.status, 302);
    const v = await send(got.headers.location!.replace(/^(http:\/\/[^/]+).*$/, "$1"), "GET", new URL(got.headers.location!).pathname + new URL(got.headers.location!).search);
    assert.is(md5(v.body), md5(body));
    assert.ok(Date.now() - t0 < 1000, `an honest PUT+GET took ${Date.now() - t0} ms`);
    served++;
  }
  const cut = await Promise.all(loris.map((l) => l.closed));
  for (const r of cut) {
    assert.ok(r.ms < IDLE_MS + 3000, `a slow-loris socket lived ${r.ms} ms`);
    assert.ok(r.status === null || r.status === 408, `slow-loris answered ${r.status}`);
  }
  const idleMs = await Promise.all(idle.map((u) => u.closed));
  for (const ms of idleMs) assert.ok(ms >= IDLE_MS - 200 && ms < IDLE_MS + 3000, `an idle upload was cut after ${ms} ms`);
  await until("the idle uploads' temp files are gone", tmpEmpty);
  for (let i = 0; i < 10; i++) assert.is((await send(c.url, "GET", `/idle/${i}`)).status, 404);
  for (let i = 0; i < 10; i++) assert.is((await send(c.volumes[i % 3].url, "GET", `/idle-on-volume/${i}`)).status, 404);
  await until("the master dropped the idle writes", async () => (await send(c.url, "DELETE", "/idle/0")).status === 404);
  for (let i = 0; i < served; i++) assert.is((await send(c.url, "DELETE", `/honest/${i}`)).status, 204);
});

test("300 concurrent sockets (GETs, PUTs, idle) are served or refused cleanly; the master keeps answering", async () => {
  const value = bytes(500, 42);
  assert.is((await send(c.url, "PUT", "/many/known", value)).status, 201);
  const { host, port } = addr(c.url);
  const idle: Socket[] = [];
  for (let i = 0; i < 100; i++) {
    const s = connect({ host, port });
    s.on("error", () => {});
    idle.push(s);
  }
  const one = (i: number) =>
    new Promise<number>((resolve) => {
      const put = i % 2 === 0;
      const req = request({ host, port, method: put ? "PUT" : "GET", path: put ? `/many/${i}` : "/many/known", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
        res.on("error", () => resolve(-1));
      });
      req.setTimeout(10_000, () => req.destroy());
      req.on("error", () => resolve(-1)); // a refused connection is clean too
      req.end(put ? bytes(300, i) : undefined);
    });
  const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => one(i)));
  for (const s of idle) s.destroy();
  const bad = statuses.filter((s) => s !== 201 && s !== 302 && s !== 503 && s !== -1);
  assert.equal(bad, [], "only 201, 302, 503 or a refused connection");
  assert.ok(statuses.filter((s) => s === 201 || s === 302).length >= 190, `most were served: ${statuses.join(",")}`);
  // Afterwards the master answers, and what it stored reads back.
  const got = await send(c.url, "GET", "/many/known");
  assert.is(got.status, 302);
  for (let i = 0; i < 200; i += 2) {
    if (statuses[i] === 201) assert.is((await send(c.url, "DELETE", `/many/${i}`)).status, 204);
  }
  assert.is((await send(c.url, "DELETE", "/many/known")).status, 204);
  await until("temp files are gone", tmpEmpty);
});

const fds = () => readdirSync("/proc/self/fd").length;

test("200 aborted uploads and 20 aborted downloads leave no temp file, no key, no leaked fd", async () => {
  // A separate cluster without a size limit: the downloads need a value bigger than a socket buffer.
  const d = await startCluster({ volumes: 3 });
  try {
    const big = bytes(8 << 20, 9);
    assert.is((await send(d.url, "PUT", "/dl/big", big)).status, 201);
    const loc = new URL((await send(d.url, "GET", "/dl/big")).headers.location!);
    const dTmp = () => d.volumes.reduce((n, v) => n + filesUnder(join(v.dir, "tmp")).length, 0);
    // Warm up the keep-alive pools, then take the baseline.
    for (let i = 0; i < 3; i++) {
      assert.is((await send(d.url, "PUT", `/warm/${i}`, "w")).status, 201);
      assert.is((await send(d.url, "DELETE", `/warm/${i}`)).status, 204);
    }
    const baseline = fds();
    for (let batch = 0; batch < 10; batch++) {
      const ups = Array.from({ length: 20 }, (_, i) => slowPut(d.url, `/aborted/${batch}/${i}`, i % 2 ? { "content-length": String(1 << 20) } : {}));
      await Promise.all(ups.map((u) => u.write(bytes(64 << 10, batch * 20 + 1))));
      await until("every upload reached its volumes", () => dTmp() === 60);
      for (const u of ups) u.abort();
      await until("temp files are gone", () => dTmp() === 0);
    }
    // Downloads straight from a volume, dropped after the first bytes.
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: loc.hostname, port: Number(loc.port), path: loc.pathname + loc.search, agent: false }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.on("error", (e) => (req.destroyed ? resolve() : reject(e)));
        req.end();
      });
    }
    await until(`the fd count returns to its baseline ${baseline} (now ${fds()})`, () => fds() <= baseline + 6, 15_000);
    await until("the master released every key", async () => (await send(d.url, "PUT", "/aborted/0/0", "x")).status === 201);
    assert.is((await send(d.url, "DELETE", "/aborted/0/0")).status, 204);
    const keys = ((await (await fetch(`${d.url}/?list`)).json()) as { keys: string[] }).keys;
    assert.equal(keys, ["/dl/big"], "no aborted upload left a key");
    const unlinked = ((await (await fetch(`${d.url}/?unlinked`)).json()) as { keys: string[] }).keys;
    assert.equal(unlinked, []);
    assert.is(dTmp(), 0);
    // And the value whose downloads were dropped is intact.
    const again = await send(loc.origin, "GET", loc.pathname + loc.search);
    assert.is(again.status, 200);
    assert.is(md5(again.body), md5(big));
  } finally {
    await d.close();
  }
});



test.run();
