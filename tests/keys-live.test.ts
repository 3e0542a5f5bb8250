/**
 * Authentication switched on by the first key, without a restart (on every master within
 * KEY_CACHE_MS), and the operator
 * endpoints behind it (issue 26, items 2 and 6): the status page, its JSON, `kvdb status`
 * and /_kvdb/metrics need a monitor (or admin) key; `--metrics-public` opens metrics;
 * `kvdb status`, `verify` and `rebalance` take --token / KVDB_TOKEN.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runKvdb } from "../harness/kvdb.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";
import { KEY_CACHE_MS } from "../src/auth/key-store.ts";

let c: Cluster;
let open: Cluster;
const tokens: Record<string, string> = {};

const get = (path: string, token?: string) => fetch(`${c.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: "manual" });
const kvdb = (args: string[], token?: string) => runKvdb([...args, "--master", c.url], token ? { KVDB_TOKEN: token } : {});

async function create(name: string, grant: string, token?: string): Promise<string> {
  const r = await kvdb(["keys", "create", name, "--grant", grant], token);
  assert.is(r.code, 0, r.stderr);
  return (tokens[name] = /^token=(\S+)$/m.exec(r.stdout)![1]);
}

test.before(async () => {
  c = await startCluster();
  open = await startCluster({ metricsPublic: true });
});

test.after(async () => {
  await c?.close();
  await open?.close();
});

test("before any key the curl API and its operator endpoints are open; the first key, made through the master, must be an admin key and turns authentication on at once", async () => {
  assert.is((await fetch(`${c.url}/k`, { method: "PUT", body: "v" })).status, 201);
  for (const path of ["/_kvdb/metrics", "/_kvdb/status.json", "/_kvdb/status"]) assert.is((await get(path)).status, 200, path);
  assert.is((await get("/_kvdb/keys")).status, 403, "nothing to list or change before a key exists");
  const notAdmin = await kvdb(["keys", "create", "reader", "--grant", "read"]);
  assert.is(notAdmin.code, 1);
  assert.is(notAdmin.stderr, "kvdb: POST /_kvdb/keys: 400 the first key must be an admin key (--grant admin): it manages the others\n");
  await create("ops", "admin");
  const anonymous = await fetch(`${c.url}/k2`, { method: "PUT", body: "v" });
  assert.is(anonymous.status, 401, "no restart needed");
  assert.is((await fetch(`${c.url}/k2`, { method: "PUT", body: "v", headers: { authorization: `Bearer ${tokens.ops}` } })).status, 201);
  const second = await kvdb(["keys", "create", "late", "--grant", "admin"]);
  assert.is(second.code, 1, "the second key needs an admin key");
  assert.match(second.stderr, /^kvdb: POST \/_kvdb\/keys: 401 /);
});

test("two masters sharing PostgreSQL: the first key made through one turns authentication on at the other within KEY_CACHE_MS (5 s)", async () => {
  const two = await startCluster({ masters: 2 });
  try {
    const [a, b] = two.masters.map((m) => m.url);
    assert.is((await fetch(`${b}/seen`, { method: "PUT", body: "v" })).status, 201);
    assert.is((await fetch(`${b}/seen`, { redirect: "manual" })).status, 302);
    const made = await runKvdb(["keys", "create", "ops", "--master", a]);
    assert.is(made.code, 0, made.stderr);
    const t0 = Date.now();
    await until("B refuses an anonymous read", async () => (await fetch(`${b}/seen`, { redirect: "manual" })).status === 401, KEY_CACHE_MS + 2000);
    assert.ok(Date.now() - t0 <= KEY_CACHE_MS + 1000, `${Date.now() - t0} ms`);
    assert.is((await fetch(`${b}/other`, { method: "PUT", body: "v" })).status, 401);
  } finally {
    await two.close();
  }
});

test("the status page, its JSON and metrics need a monitor or admin key; a monitor key reads nothing else", async () => {
  const mon = await create("mon", "monitor", tokens.ops);
  const writer = await create("writer", "write", tokens.ops);
  for (const path of ["/_kvdb/metrics", "/_kvdb/status.json", "/_kvdb/status"]) {
    assert.is((await get(path)).status, 401, path);
    assert.is((await get(path, writer)).status, 403, `${path}: write is no monitor grant`);
    assert.is((await get(path, mon)).status, 200, path);
    assert.is((await get(path, tokens.ops)).status, 200, `${path}: admin includes monitor`);
  }
  assert.is((await get("/k", mon)).status, 403, "monitor reads no value");
  assert.is((await get("/_kvdb/volumes")).status, 200, "the volume list is no operator page (the volumes' own checks)");
  const bad = await runKvdb(["keys", "create", "x", "--grant", "monitor:app/", "--master", c.url], { KVDB_TOKEN: tokens.ops });
  assert.is(bad.code, 2, "monitor is on everything");
});

test("kvdb status takes --token or KVDB_TOKEN; verify and rebalance too (admin); without one they say the master's 401", async () => {
  const status = await runKvdb(["status", "--master", c.url, "--token", tokens.mon]);
  assert.match(status.stdout, /^(OK|DEGRADED|FAILING): /);
  const refused = await kvdb(["status"]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /^kvdb: master answered 401: authentication required/);
  const verify = await kvdb(["verify", "--quick"], tokens.ops);
  assert.is(verify.code, 0, verify.stderr);
  const rebalance = await runKvdb(["rebalance", "--master", c.url, "--token", tokens.ops]);
  assert.is(rebalance.code, 0, rebalance.stderr);
  const monitorJob = await kvdb(["verify"], tokens.mon);
  assert.is(monitorJob.code, 1);
  assert.match(monitorJob.stderr, /403/);
});

test("--metrics-public: metrics open to Prometheus once authentication is on; the status page still needs a key", async () => {
  const made = await runKvdb(["keys", "create", "ops", "--master", open.url]);
  assert.is(made.code, 0, made.stderr);
  assert.is((await fetch(`${open.url}/_kvdb/metrics`)).status, 200);
  assert.is((await fetch(`${open.url}/_kvdb/status.json`)).status, 401);
});

test.run();
