/**
 * The master's status page in a real headless Chromium (Debian's chromium, driven by
 * playwright-core), against a cluster with one volume killed: the page must show that
 * volume down and the banner degraded. The screenshot is kept as
 * test-artifacts/status-page.png. Also status.json, `kvdb status` and the redirect of
 * a browser from /.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { StatusFacts } from "../src/master/status/facts.ts";
import { REPO, tempDir } from "../harness/paths.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

const CHROMIUM = "/usr/bin/chromium";
/** Without the background-networking flags Chromium fails on a closed network. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = join(REPO, "test-artifacts");

let c: Cluster;
let dead: string;

const facts = async () => (await (await fetch(`${c.url}/_kvdb/status.json`)).json()) as StatusFacts;

test.before(async () => {
  c = await startCluster({ volumes: 3, replicas: 2 });
  for (const k of ["/a", "/b", "/c"]) assert.is((await fetch(`${c.url}/status${k}`, { method: "PUT", body: k })).status, 201);
  dead = c.volumes[2].name;
  await c.volumes[2].stop();
  await until("the master sees the volume down", async () => (await facts()).volumes.some((v) => v.name === dead && !v.up));
});

test.after(() => c.close());

test("status.json: degraded (writes still get their 2 replicas), the killed volume down, keys counted", async () => {
  const s = await facts();
  assert.is(s.health.state, "degraded");
  assert.is(s.health.writable, true);
  assert.is(s.health.message, `writes get their 2 replicas; 1 of 3 volumes down (${dead})`);
  assert.equal(
    s.volumes.map((v) => [v.name, v.up]),
    c.volumes.map((v) => [v.name, v.name !== dead]),
  );
  assert.is(s.replication.keys.live, 3);
  assert.equal([s.capacity.volumesUp, s.capacity.volumes], [2, 3]);
  assert.equal([s.config.replicas, s.config.secret, s.config.version, s.config.runtime], [2, false, "0.1.0", "node"]);
  assert.ok(s.traffic.requestsPerSecond >= 0);
});

test("in Chromium, / leads a browser to the status page, which shows the volume down and the banner degraded", async () => {
  const profile = tempDir("kvdb-chromium");
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await browser.newPage();
    const res = await page.goto(`${c.url}/`);
    assert.is(res?.status(), 200);
    assert.is(new URL(page.url()).pathname, "/_kvdb/status");
    await page.waitForSelector('#banner[data-state="degraded"]', { timeout: 10_000 });
    assert.match((await page.textContent("#banner")) ?? "", /^DEGRADED: writes get their 2 replicas; 1 of 3 volumes down/);
    const row = page.locator(`tr[data-volume="${dead}"]`);
    assert.is(await row.getAttribute("data-state"), "down");
    assert.match((await row.locator("td").nth(2).textContent()) ?? "", /^down: /);
    for (const v of c.volumes.filter((v) => v.name !== dead)) {
      assert.is(await page.locator(`tr[data-volume="${v.name}"]`).getAttribute("data-state"), "up");
    }
    assert.match((await page.textContent("#replication")) ?? "", /3 live, 0 unlinked/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "status-page.png"), fullPage: true });
    console.log(`    screenshot: ${join(ARTIFACTS, "status-page.png")}`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test("a browser's ?list at / still lists keys; a non-browser GET / is still a bad key", async () => {
  const list = await fetch(`${c.url}/?list`, { headers: { accept: "text/html,*/*" } });
  assert.is(list.status, 200);
  assert.equal(((await list.json()) as { keys: string[] }).keys, ["/status/a", "/status/b", "/status/c"]);
  const plain = await fetch(`${c.url}/`, { redirect: "manual" });
  assert.is(plain.status, 400);
});

test("kvdb status prints the banner and the table, the dead volume DOWN; exit 1 while degraded", async () => {
  const r = await runKvdb(["status", "--master", c.url]);
  assert.is(r.code, 1, r.stderr);
  const lines = r.stdout.split("\n");
  assert.is(lines[0], `DEGRADED: writes get their 2 replicas; 1 of 3 volumes down (${dead})`);
  assert.match(lines[2], /^volume\s+zone\s+state\s+last answer\s+latency\s+used\s+total\s+keys\s+runtime$/);
  assert.match(r.stdout, new RegExp(`\\n${dead.replace(/\./g, "\\.")}\\s+127\\.0\\.0\\.1\\s+DOWN \\(`));
  assert.match(r.stdout, /\nkeys {9}3 live, 0 unlinked, 0 writing, 0 deleting\n/);
  const json = await runKvdb(["status", "--master", c.url, "--json"]);
  assert.is((JSON.parse(json.stdout) as StatusFacts).health.state, "degraded");
});

test.run();
