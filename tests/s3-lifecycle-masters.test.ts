/**
 * S3 lifecycle rules on two masters sharing one PostgreSQL index: both ask for runs,
 * one runs at a time (src/master/jobs/periodic.ts: a job, and PostgreSQL lets one job
 * run across the masters), so every expired object is deleted once and counted once.
 */
import { CreateBucketCommand, ListObjectsV2Command, PutBucketLifecycleConfigurationCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sdk } from "./s3-client.ts";
import { sample, scrape } from "./prometheus.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let c: Cluster;
let a: S3Client;
let b: S3Client;

test.before(async () => {
  c = await startCluster({ s3: true, masters: 2, s3LifecycleDayMs: 1000 });
  a = sdk(c.masters[0].s3!).client;
  b = sdk(c.masters[1].s3!).client;
});

test.after(async () => {
  a?.destroy();
  b?.destroy();
  await c?.close();
});

interface JobView {
  kind: string;
  state: string;
  started: number;
  finished?: number;
}

test("two masters run the lifecycle one at a time: each expired object deleted and counted once", async () => {
  const Bucket = "shared-expiry";
  await a.send(new CreateBucketCommand({ Bucket }));
  const N = 20;
  for (let i = 0; i < N; i++) await (i % 2 ? b : a).send(new PutObjectCommand({ Bucket, Key: `exp/${i}`, Body: `value ${i}` }));
  await b.send(new PutObjectCommand({ Bucket, Key: "stays", Body: "kept" }));
  await a.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [{ ID: "r", Prefix: "exp/", Status: "Enabled", Expiration: { Days: 1 } }] } }));
  const listed = async () => ((await b.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key);
  await until("the expired objects are gone", async () => (await listed()).join() === "stays", 15_000);
  const counted = async () => Promise.all(c.masters.map(async (m) => sample((await scrape(m.url)).text, "kvdb_lifecycle_expired_objects_total") ?? 0));
  const expired = async () => (await counted()).reduce((x, y) => x + y, 0);
  // The runs as PostgreSQL keeps them (the latest 100): never two at once, whichever master ran them.
  await until("no lifecycle run is running", async () => {
    const jobs = (await (await fetch(`${c.masters[0].url}/_kvdb/jobs`)).json()) as JobView[];
    return jobs.every((j) => j.state !== "running");
  });
  assert.is(await expired(), N, `counted by each master: ${await counted()}`);
  const runs = ((await (await fetch(`${c.masters[1].url}/_kvdb/jobs`)).json()) as JobView[]).filter((j) => j.kind === "lifecycle").sort((x, y) => x.started - y.started);
  assert.ok(runs.length >= 1);
  for (let i = 1; i < runs.length; i++) assert.ok(runs[i - 1].finished! <= runs[i].started, `runs ${i - 1} and ${i} overlap`);
  assert.is(await expired(), N);
});

test("a verify stays listed however many lifecycle runs came after it (PostgreSQL lists the latest of each kind)", async () => {
  // A lifecycle run may be running: then 409 (docs/OPERATIONS.md), and the verify is asked for again.
  let id = "";
  await until("a verify starts", async () => {
    const started = await fetch(`${c.masters[0].url}/_kvdb/jobs/verify`, { method: "POST" });
    assert.ok(started.status === 202 || started.status === 409, String(started.status));
    id = ((await started.json()) as { id: string }).id;
    return started.status === 202;
  });
  await until("the verify is done", async () => ((await (await fetch(`${c.masters[0].url}/_kvdb/jobs/${id}`)).json()) as JobView).state === "done");
  await until("its end is saved", () => c.sql(`SELECT state FROM kvdb_jobs WHERE id = '${id}'`) === "done");
  // A year of hourly lifecycle runs after it, more than the 100 latest jobs listed.
  c.sql(`INSERT INTO kvdb_jobs (id, state, owner, started, body)
         SELECT 'lifecycle-old-' || g, 'done', 'gone', now() + g * interval '1 ms',
                jsonb_build_object('id', 'lifecycle-old-' || g, 'kind', 'lifecycle', 'state', 'done', 'repair', false, 'done', 0, 'total', 0,
                                   'started', ${Date.now()}, 'finished', ${Date.now()}, 'rate', 0, 'eta', 0, 'counts', '{}'::jsonb,
                                   'problems', '[]'::jsonb, 'ok', true, 'summary', 'lifecycle: 0 objects expired')
         FROM generate_series(1, 150) g`);
  const jobs = (await (await fetch(`${c.masters[1].url}/_kvdb/jobs`)).json()) as (JobView & { id: string })[];
  assert.ok(jobs.some((j) => j.id === id), "the verify is listed");
  const status = (await (await fetch(`${c.masters[1].url}/_kvdb/status.json`)).json()) as { replication: { lastVerify: { id: string } | null } };
  assert.is(status.replication.lastVerify?.id, id);
});

test.run();
