/**
 * Direct writes (src/master/direct-write.ts, src/volume/direct-write.ts): a large PUT sent
 * with Expect: 100-continue goes to a volume after a 307, as curl -L does it (Debian's
 * curl, verbatim), and the client sees what the master would have answered. Real
 * masters and volumes on loopback, with a secret (every URL signed).
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { VOLUME_WRITE } from "../src/wire/direct-wire.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";
import { askToWrite, bytes, filesUnder, md5 } from "./http.ts";
import { sample, scrape } from "./prometheus.ts";

const SECRET = "direct-write-test-secret";
const run = promisify(execFile);
const MiB = 1 << 20;

let c: Cluster;
test.before(async () => {
  c = await startCluster({ secret: SECRET, busyWaitMs: 3000 });
});
test.after(async () => {
  await c?.close();
});

/** `value` in a file, for curl -T. */
function fileOf(name: string, value: Buffer): string {
  const path = join(c.dir, name);
  writeFileSync(path, value);
  return path;
}

/** curl's exchange with -D -: each answer's status line and headers, lower-cased names. */
async function curl(args: string[]): Promise<{ statuses: number[]; headers: Record<string, string>; body: string }> {
  const { stdout } = await run("curl", ["-sS", "-D", "-", ...args]);
  const statuses = [...stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  const last = stdout.slice(stdout.lastIndexOf("HTTP/1.1 "));
  const [head, body = ""] = last.split("\r\n\r\n");
  const headers = Object.fromEntries(head.split("\r\n").slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  return { statuses, headers, body };
}

async function send(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method: "PUT", body: body as BodyInit, headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const blobs = () => c.volumes.flatMap((v) => filesUnder(join(v.dir, "blobs")));

async function read(key: string): Promise<{ status: number; body?: Buffer }> {
  const res = await fetch(`${c.url}${keyPath(key)}`);
  return { status: res.status, body: res.status === 200 ? Buffer.from(await res.arrayBuffer()) : (await res.arrayBuffer(), undefined) };
}

const masterReceived = async () => sample((await scrape(c.url)).text, 'kvdb_http_received_bytes_total{role="master"}') ?? 0;

test("curl -sS -L -T file URL, verbatim: 201 from the first volume of the placement, not a byte through the master, the value reads back byte-exact", async () => {
  const value = bytes(3 * MiB + 17, 23);
  const file = fileOf("three", value);
  const before = await masterReceived();
  const plain = await run("curl", ["-sS", "-L", "-T", file, `${c.url}/direct/curl`]);
  assert.equal([plain.stdout, plain.stderr], ["", ""]);
  assert.is(await masterReceived(), before, "the master received no body byte");
  assert.equal(await read("/direct/curl"), { status: 200, body: value });

  const shown = await curl(["-L", "-T", file, `${c.url}/direct/shown`]);
  assert.equal(shown.statuses, [307, 100, 201]);
  assert.is(shown.headers["content-md5"], md5(value));
  assert.is(shown.headers.etag, `"${md5(value)}"`);
  assert.is(shown.headers["content-length"], "0");
  const volumes = shown.headers["key-volumes"].split(",");
  assert.is(volumes.length, 3);
  const located = await fetch(`${c.url}/direct/shown`, { redirect: "manual" });
  await located.arrayBuffer();
  assert.is(located.headers.get("key-volumes"), volumes.join(","));
  assert.equal(await read("/direct/shown"), { status: 200, body: value });
});

test("served by the master as before: a client without Expect, a small value with Expect, and any value with --direct-threshold off", async () => {
  const value = bytes(2 * MiB, 5);
  const res = await fetch(`${c.url}/direct/fetch`, { method: "PUT", body: value, redirect: "manual" });
  assert.is(res.status, 201, await res.text());
  assert.is(res.headers.get("content-md5"), md5(value));
  const small = await curl(["-H", "Expect: 100-continue", "-T", fileOf("small", bytes(100 << 10, 6)), `${c.url}/direct/small`]);
  assert.equal(small.statuses, [100, 201]);

  const off = await startCluster({ directThreshold: null });
  try {
    const plain = await curl(["-L", "-T", fileOf("off", value), `${off.url}/direct/off`]);
    assert.equal(plain.statuses, [100, 201]);
    assert.is(plain.headers["content-md5"], md5(value));
  } finally {
    await off.close();
  }
});

test("a write URL is good once: a replay after the 201 is 409, a replay after a failed write is 403, and neither changes anything", async () => {
  const value = bytes(MiB + 1, 8);
  const asked = await askToWrite(c.url, "/direct/once", value.length);
  assert.is(asked.status, 307, asked.body);
  const first = await send(asked.location!, value);
  assert.is(first.status, 201, first.text);
  const replay = await send(asked.location!, bytes(MiB + 1, 9));
  assert.is(replay.status, 409, replay.text);
  assert.equal(await read("/direct/once"), { status: 200, body: value });

  const undone = await askToWrite(c.url, "/direct/undone", value.length, { "content-md5": md5("something else") });
  const mismatch = await send(undone.location!, value);
  assert.is(mismatch.status, 400, mismatch.text);
  const replayed = await send(undone.location!, value);
  assert.is(replayed.status, 403, replayed.text);
  assert.is((await read("/direct/undone")).status, 404);
});

test("Content-MD5 that does not match the body: 400, nothing stored on any volume, and the key can be written", async () => {
  const before = blobs().length;
  const value = bytes(2 * MiB, 10);
  const wrong = await curl(["-L", "-H", `Content-MD5: ${md5("not this")}`, "-T", fileOf("md5", value), `${c.url}/direct/md5`]);
  assert.equal(wrong.statuses, [307, 100, 400]);
  assert.match(wrong.body, /^nothing stored: Content-MD5 mismatch/);
  assert.is((await read("/direct/md5")).status, 404);
  assert.is(blobs().length, before, "no replica left on any volume");
  const right = await curl(["-L", "-H", `Content-MD5: ${md5(value)}`, "-T", fileOf("md5", value), `${c.url}/direct/md5`]);
  assert.equal(right.statuses, [307, 100, 201]);
});

test("a PUT that meets a direct write in flight waits for it, then answers 409", async () => {
  const value = bytes(MiB + 5, 11);
  const asked = await askToWrite(c.url, "/direct/raced", value.length);
  assert.is(asked.status, 307);
  const other = fetch(`${c.url}/direct/raced`, { method: "PUT", body: "another value" }).then(async (r) => ({ status: r.status, text: await r.text() }));
  await new Promise((r) => setTimeout(r, 300));
  assert.is((await send(asked.location!, value)).status, 201);
  assert.equal((await other).status, 409);
  assert.equal(await read("/direct/raced"), { status: 200, body: value });
});

test("a write URL past its time is refused (403) and stores nothing; a 307 never followed is undone by the janitor after its deadline, not before", async () => {
  const short = await startCluster({ urlTtl: 1, timeoutMs: 1000, busyWaitMs: 200 });
  try {
    const value = bytes(MiB + 1, 12);
    const late = await askToWrite(short.url, "/direct/late", value.length);
    await new Promise((r) => setTimeout(r, 1200));
    const refused = await send(late.location!, value);
    assert.is(refused.status, 403, refused.text);

    const asked = await askToWrite(short.url, "/direct/abandoned", value.length);
    assert.is(asked.status, 307);
    const t0 = Date.now();
    const held = await fetch(`${short.url}/direct/abandoned`, { method: "PUT", body: "x" });
    assert.is(held.status, 503, "the direct write holds the key until its deadline");
    assert.is(held.headers.get("retry-after"), "1");
    await held.arrayBuffer();
    await until("the janitor undid the direct write", async () => (await fetch(`${short.url}/direct/abandoned`, { method: "PUT", body: "x" })).status === 201, 20_000);
    assert.ok(Date.now() - t0 >= 2000, "not before its deadline");
    assert.equal(short.volumes.flatMap((v) => filesUnder(join(v.dir, "blobs"))), [], "no replica of either write");
  } finally {
    await short.close();
  }
});

test("one hash per value: the other replicas keep the first volume's md5, and a replica corrupted on disk is still caught by verify and repaired", async () => {
  const value = bytes(2 * MiB, 13);
  const asked = await askToWrite(c.url, "/direct/hashed", value.length);
  const url = new URL(asked.location!);
  const name = decodeURIComponent(url.pathname.slice(VOLUME_WRITE.length));
  assert.is((await send(asked.location!, value)).status, 201);
  const verify = (...args: string[]) => runKvdb(["verify", ...args, "--master", c.url], { KVDB_SECRET: SECRET }, 60_000);
  const clean = await verify();
  assert.is(clean.code, 0, clean.stdout + clean.stderr);

  const other = c.volumes.find((v) => String(v.port) !== url.port)!;
  const path = join(other.dir, "blobs", blobPath(name));
  const onDisk = readFileSync(path);
  onDisk[12345] ^= 0xff;
  writeFileSync(path, onDisk);
  const caught = await verify();
  assert.is.not(caught.code, 0, caught.stdout + caught.stderr);
  const repaired = await verify("--repair");
  assert.is(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.ok(readFileSync(path).equals(value), "the replica holds the value again");
  assert.is((await verify()).code, 0);
});

test.run();
