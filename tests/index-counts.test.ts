/**
 * The index's keys-by-state counts (src/master/index/state-counts.ts), as the master's
 * metrics show them with no scan: exact after each PUT, UNLINK and DELETE; a write in
 * flight counts as writing; after the master is killed (kill -9) with a `writing`
 * record, the index counts its records at open, and the restarted master's recovery
 * moves the counts with it; a clean stop saves them and a restart reads them back.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { State } from "../src/master/index/index.ts";
import { LevelIndex } from "../src/master/index/level.ts";
import { slowPut } from "./http.ts";
import { startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

/** kvdb_keys by state, and the pending gauge, from one scrape. */
async function keyCounts(master: string): Promise<Record<State | "pending", number>> {
  const res = await fetch(`${master}/_kvdb/metrics`);
  assert.is(res.status, 200);
  const text = await res.text();
  const value = (series: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} in the metrics`);
    return Number(line.slice(series.length + 1));
  };
  const states: State[] = ["writing", "live", "unlinked", "deleting"];
  return { ...Object.fromEntries(states.map((s) => [s, value(`kvdb_keys{state="${s}"}`)])), pending: value("kvdb_operations_pending") } as Record<State | "pending", number>;
}

const counts = (live: number, unlinked = 0, writing = 0, deleting = 0) => ({ writing, live, unlinked, deleting, pending: writing + deleting });

test("counts stay exact across PUT, UNLINK, DELETE, a kill -9 mid-write, a recount at open, and clean restarts", async () => {
  const c = await startCluster({ runtime: "node", volumes: 2, replicas: 2 });
  try {
    let url = c.master.url;
    assert.equal(await keyCounts(url), counts(0));
    for (const k of ["a", "b", "c", "d"]) assert.is((await fetch(`${url}/counts/${k}`, { method: "PUT", body: k })).status, 201);
    assert.equal(await keyCounts(url), counts(4));
    assert.is((await fetch(`${url}/counts/a`, { method: "PUT", body: "again" })).status, 409);
    assert.is((await fetch(`${url}/counts/b`, { method: "UNLINK" })).status, 204);
    assert.equal(await keyCounts(url), counts(3, 1));
    assert.is((await fetch(`${url}/counts/c`, { method: "DELETE" })).status, 204);
    assert.is((await fetch(`${url}/counts/b`, { method: "DELETE" })).status, 204);
    assert.equal(await keyCounts(url), counts(2));

    // A write in flight is counted as writing; then the master dies with it.
    const put = slowPut(url, "/counts/in-flight", { "content-length": String(1 << 20) });
    await put.write(Buffer.alloc(64 << 10, 1));
    await until("the write is recorded", async () => (await keyCounts(url)).writing === 1);
    assert.equal(await keyCounts(url), counts(2, 0, 1));
    assert.is(await c.master.child.stop("SIGKILL"), "SIGKILL");
    put.abort();

    // No counts were saved: the index counts its records as it opens. Closing it saves them.
    const index = new LevelIndex(c.master.db);
    await index.open();
    assert.equal(await index.counts(), { writing: 1, live: 2, unlinked: 0, deleting: 0 });
    await index.close();

    // The restarted master reads the saved counts, and its recovery undoes the write.
    await c.master.restart();
    url = c.master.url;
    assert.match(c.master.child.output(), /cleaned up 1 operation/);
    assert.equal(await keyCounts(url), counts(2));

    // Killed again, with nothing in flight: counted at open by the master itself.
    assert.is((await fetch(`${url}/counts/e`, { method: "PUT", body: "e" })).status, 201);
    assert.is((await fetch(`${url}/counts/d`, { method: "UNLINK" })).status, 204);
    assert.is(await c.master.child.stop("SIGKILL"), "SIGKILL");
    await c.master.restart();
    url = c.master.url;
    assert.equal(await keyCounts(url), counts(2, 1));

    // A clean stop saves the counts; the next start reads them.
    assert.is(await c.master.child.stop("SIGTERM"), 0);
    await c.master.restart();
    url = c.master.url;
    assert.equal(await keyCounts(url), counts(2, 1));
    assert.is((await fetch(`${url}/counts/d`, { method: "DELETE" })).status, 204);
    assert.equal(await keyCounts(url), counts(2));
  } finally {
    await c.close();
  }
});

test.run();
