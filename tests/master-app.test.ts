/**
 * The master's Hono app driven with app.request(), no server and no volume: what it
 * answers from the index and the request alone. Proves handlers need nothing from a
 * runtime adapter (the raw path and body default to the web Request's).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { masterApp } from "../src/master/app.ts";
import { front } from "../src/runtime/fast-path.ts";
import type { NewRecord } from "../src/master/index/index.ts";
import { sweepOrphans } from "../src/master/janitor.ts";
import type { Master } from "../src/master/master.ts";
import { buildMaster } from "../src/master/start.ts";
import { HOST } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { startVolume } from "../src/volume/start.ts";

async function withMaster(fn: (app: ReturnType<typeof masterApp>["app"], m: Master) => Promise<void>, volume = "127.0.0.1:1"): Promise<void> {
  const dir = tempDir("kvdb-app");
  // As a started master is built (master/start.ts), but its volume never checked: down until a test says up.
  const m = await buildMaster({ volumes: [volume], db: join(dir, "index"), replicas: 1, proxy: false, busyWaitMs: 5000 });
  try {
    await fn(masterApp(m, false).app, m);
  } finally {
    await m.index.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stores a live record as a PUT would: created writing, then committed. */
async function seed(m: Master, key: string, live: NewRecord): Promise<void> {
  const writing = await m.index.create(key, { ...live, state: "writing" });
  assert.ok(await m.index.commit(key, writing!, live), `${key} committed`);
}

test("a key that is not there is 404 with an empty body; a bad key is 400 with its reason", () =>
  withMaster(async (app) => {
    const missing = await app.request("/nothing/here");
    assert.is(missing.status, 404);
    assert.is(await missing.text(), "");
    const bad = await app.request("/a//b");
    assert.is(bad.status, 400);
    assert.is(await bad.text(), "empty path segment (//) in key\n");
    const reserved = await app.request("/_kvdb/nope");
    assert.is(reserved.status, 400);
  }));

test("a live record is redirected to its volume with its md5; unlinked is 404; no volume up is 503", () =>
  withMaster(async (app, m) => {
    await seed(m, "/k", { state: "live", volumes: ["127.0.0.1:1"], size: 3, md5: "abc", time: 1 });
    const down = await app.request("/k");
    assert.is(down.status, 503);
    assert.is(await down.text(), "no replica of this key is on a healthy volume\n");
    m.volumes.get("127.0.0.1:1")!.up = true;
    const res = await app.request("/k");
    assert.is(res.status, 302);
    assert.is(res.headers.get("location"), "http://127.0.0.1:1/k");
    assert.is(res.headers.get("etag"), '"abc"');
    assert.is(res.headers.get("key-volumes"), "127.0.0.1:1");
    await m.index.setState("/k", (await m.index.get("/k"))!, "unlinked");
    assert.is((await app.request("/k")).status, 404);
  }));

test("what the runtime adapter answers before the app (readDirect) is what the app answers, and the rest is left to the app; both are counted", () =>
  withMaster(async (app, m) => {
    const { direct: readDirect, counter } = masterApp(m, false);
    assert.ok(readDirect, "a master without --verbose answers reads directly");
    // As a runtime adapter runs them (runtime/fast-path.ts).
    const { fetch, direct } = front(app.fetch, readDirect, counter);
    const meter = { receivedBytes: 0, sentBytes: 0, whenDone: (done: () => void) => done() };
    const both = async (target: string) => {
      const quick = direct!("GET", target, meter);
      const res = await fetch(new Request(`http://localhost${target}`), {});
      return { quick, res };
    };
    const missing = await both("/nothing/here");
    assert.equal(missing.quick, { status: 404, headers: { "content-length": "0" } });
    assert.is(missing.res.status, 404);
    await seed(m, "/k", { state: "live", volumes: ["127.0.0.1:1"], size: 3, md5: "abc", time: 1 });
    const down = await both("/k");
    assert.is(down.quick, undefined, "no healthy replica: the app's 503");
    assert.is(down.res.status, 503);
    m.volumes.get("127.0.0.1:1")!.up = true;
    const live = await both("/k");
    assert.is(live.quick!.status, 302);
    assert.equal(live.quick!.headers, Object.fromEntries(live.res.headers), "the same headers as the app's 302");
    assert.equal(live.quick!.headers, { "content-md5": "abc", etag: '"abc"', "key-volumes": "127.0.0.1:1", location: "http://127.0.0.1:1/k", "content-length": "0" });
    for (const target of ["/", "/a//b", "/k?list", "/?unlinked", "/_kvdb/status", "/_kvdb/volumes", "/%zz"]) {
      assert.is(direct!("GET", target, meter), undefined, target);
    }
    m.proxy = true;
    assert.is(direct!("GET", "/k", meter), undefined, "--proxy: the app streams the value");
    m.proxy = false;
    await m.index.setState("/k", (await m.index.get("/k"))!, "unlinked");
    assert.equal(direct!("HEAD", "/k", meter), { status: 404, headers: { "content-length": "0" } });
    const counted = await m.stats.registry.exposition();
    // The 302 of /k once directly, once by the app; the HEAD of /k directly only.
    assert.match(counted, /kvdb_http_requests_total\{role="master",method="GET",status_class="3xx"\} 2\n/);
    assert.match(counted, /kvdb_http_requests_total\{role="master",method="HEAD",status_class="4xx"\} 1\n/);
    assert.is(masterApp(m, true).direct, undefined, "--verbose: every request goes through the app, which logs it");
  }));

test("the orphan sweep of verify --repair waits for a key another pass holds; the janitor's leaves it for its next pass", async () => {
  const log = console.log;
  console.log = () => {};
  const volume = await startVolume({ dir: join(tempDir("kvdb-app-volume"), "v"), port: 0, hostname: HOST, verbose: false }).finally(() => (console.log = log));
  const name = `${HOST}:${volume.port}`;
  try {
    await withMaster(async (_app, m) => {
      const orphans = async () => {
        let n = 0;
        for await (const _ of m.index.orphans()) n++;
        return n;
      };
      // A replica owed a delete on a volume that is up (it never had it: its delete is a 404, done).
      await seed(m, "/k", { state: "live", volumes: [name], size: 1, md5: "a", time: 1 });
      const deleting = await m.index.setState("/k", (await m.index.get("/k"))!, "deleting");
      assert.ok(await m.index.drop("/k", deleting!, [name]));
      m.volumes.get(name)!.up = true;
      assert.is(await orphans(), 1);
      let release = () => {};
      const held = m.locks.hold("/k", () => new Promise<void>((r) => (release = r)))!;
      await sweepOrphans(m); // the janitor's pass
      assert.is(await orphans(), 1, "the janitor's pass leaves a held key");
      const repair = sweepOrphans(m, 5000);
      setTimeout(() => release(), 200);
      await Promise.all([held, repair]);
      assert.is(await orphans(), 0, "verify --repair's pass waited for the key and deleted the replica");
    }, name);
  } finally {
    await volume.close();
  }
});

test("listing streams the live keys under a prefix, paged with next", () =>
  withMaster(async (app, m) => {
    for (const k of ["/p/a", "/p/b", "/p/c", "/q/a"]) await seed(m, k, { state: "live", volumes: [], size: 1, md5: "x", time: 1 });
    const page = await app.request("/p/?list&limit=2");
    assert.is(page.status, 200);
    assert.equal(await page.json(), { keys: ["/p/a", "/p/b"], next: "/p/c" });
    const rest = await app.request("/p/?list&start=/p/c");
    assert.equal(await rest.json(), { keys: ["/p/c"], next: "" });
    assert.is((await app.request("/p/?list&limit=0")).status, 400);
  }));

test("a method the API does not have is 405 with Allow; an unknown job is 404 through the jobs sub-app", () =>
  withMaster(async (app) => {
    const res = await app.request("/k", { method: "PATCH" });
    assert.is(res.status, 405);
    assert.is(res.headers.get("allow"), "GET, HEAD, PUT, POST, DELETE, UNLINK");
    const job = await app.request("/_kvdb/jobs/nope");
    assert.is(job.status, 404);
    assert.is(await job.text(), "no such job\n");
    const kind = await app.request("/_kvdb/jobs/defrag", { method: "POST" });
    assert.is(kind.status, 404);
    assert.is(await kind.text(), "no job named defrag (rebalance, verify)\n");
    const all = await app.request("/_kvdb/jobs");
    assert.equal(await all.json(), []);
  }));

test("a PUT with no length is 411 before anything is stored", () =>
  withMaster(async (app, m) => {
    const res = await app.request("/k", { method: "PUT" });
    assert.is(res.status, 411);
    assert.is(await m.index.get("/k"), undefined);
  }));

test.run();
