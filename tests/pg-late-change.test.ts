/**
 * A change that reaches PostgreSQL late must not apply to a record created since (issue
 * 24's list-after-write anomaly, docs/CONSISTENCY.md). postgres.js queues a query sent
 * while the database is down and runs it once a connection opens again, seconds later;
 * meanwhile another master, finding the first one's lease run out, may drop the record
 * the late change read and create the key again. Each record used to start at version
 * 1, so the late compare-and-set matched the new record's version and dropped a value
 * acknowledged 201 in between. Two indexes on one real server play the two masters.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { NewRecord } from "../src/master/index/index.ts";
import { PostgresIndex } from "../src/master/index/postgres.ts";
import { freshDatabase, startPostgres, type Postgres } from "../harness/postgres.ts";

let pg: Postgres;

test.before(async () => {
  pg = await startPostgres();
});

test.after(async () => {
  await pg?.close();
});

const writing: NewRecord = { state: "writing", volumes: ["v1"], size: 1, md5: "a", time: 1 };
const live: NewRecord = { ...writing, state: "live", md5: "b", time: 2 };

/** Two indexes on a fresh database, as two masters' (each with its own pool and lease). */
async function asTwoMasters(fn: (a: PostgresIndex, b: PostgresIndex) => Promise<void>): Promise<void> {
  const url = freshDatabase(pg);
  const [a, b] = [new PostgresIndex(url), new PostgresIndex(url)];
  await a.open();
  await b.open();
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

test("queries sent while PostgreSQL is down wait in the pool and run once it is back: a master's change can land seconds after it was made", async () => {
  await asTwoMasters(async (a, b) => {
    await pg.stop();
    // The stop has closed the pool's connections; the pool sees it at the next turn of the event loop.
    await new Promise((r) => setTimeout(r, 100));
    // Each attempt to connect fails the one query it was opened for; the others queue for
    // the next connection (postgres.js), so most of these wait out the outage.
    const sent = Array.from({ length: 40 }, (_, i) => a.create(`/held/${i}`, writing).then(() => true, () => false));
    await new Promise((r) => setTimeout(r, 1500)); // the outage
    await pg.start();
    const ran = (await Promise.all(sent)).filter(Boolean).length;
    assert.ok(ran > 0, "no query sent during the outage ran after it");
    assert.is(await b.count(), ran);
  });
});

test("a purge's late drop, read from a record another master has since dropped, leaves the key's next record, written since, alone", async () => {
  await asTwoMasters(async (a, b) => {
    // Master a: a write that failed, undone by purge(): `deleting`, then (late) drop.
    const first = (await a.create("/k", writing))!;
    const deleting = (await a.setState("/k", first, "deleting"))!;
    // Master b, finding a's lease run out: finishes that delete, then a PUT writes the key again (201).
    const found = (await b.get("/k"))!;
    const dropping = (await b.setState("/k", found, "deleting"))!;
    assert.ok(await b.drop("/k", dropping, []));
    const again = (await b.create("/k", writing))!;
    const acknowledged = (await b.commit("/k", again, live))!;
    assert.ok(acknowledged);
    // a's drop arrives now, with the version it read then.
    assert.is(await a.drop("/k", deleting, []), false, "the late drop matched the record written since");
    assert.is(await a.setState("/k", deleting, "deleting"), undefined, "a late change of state matched it");
    const now = await b.get("/k");
    assert.is(now?.state, "live");
    assert.is(now?.md5, "b");
  });
});

test.run();
