/**
 * S3 lifecycle rules (issue 25 item 8; src/s3/lifecycle*.ts), with the AWS SDK against
 * a real cluster whose days last a second (KVDB_LIFECYCLE_DAY_MS, as ceph's
 * rgw_lc_debug_interval): the configuration is put, read back and deleted; what S3
 * refuses is refused (and what kvdb does not do answers 501); objects past their
 * Expiration go and the others stay; incomplete uploads past their
 * AbortIncompleteMultipartUpload are aborted; the runs are jobs, counted in the metrics
 * and on the status page. Two masters sharing PostgreSQL run it once: s3-lifecycle-masters.test.ts.
 */
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  GetObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type LifecycleRule,
  type S3Client,
} from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rejects, sdk } from "./s3-client.ts";
import { sample, scrape } from "./prometheus.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let c: Cluster;
let s3: S3Client;

test.before(async () => {
  c = await startCluster({ s3: true, s3LifecycleDayMs: 1000 });
  s3 = sdk(c.s3!).client;
});

test.after(async () => {
  s3?.destroy();
  await c?.close();
});

const put = (Bucket: string, Rules: LifecycleRule[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));
const keys = async (Bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key!).sort();
const metric = async (name: string) => sample((await scrape(c.master.url)).text, name) ?? 0;

test("a configuration is put, read back as given, and deleted; none: NoSuchLifecycleConfiguration, and Delete is 204 all the same", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: "conf" }));
  await rejects(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "conf" })), "NoSuchLifecycleConfiguration", 404);
  const rules: LifecycleRule[] = [
    { ID: "old-form", Prefix: "logs/", Status: "Enabled", Expiration: { Days: 31 } },
    { ID: "filtered", Filter: { Prefix: "tmp/" }, Status: "Disabled", Expiration: { Date: new Date("2030-01-01T00:00:00Z") }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
    { ID: "sized", Filter: { And: { Prefix: "big/", ObjectSizeGreaterThan: 1000 } }, Status: "Enabled", Expiration: { Days: 1 } },
  ];
  await put("conf", rules);
  const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "conf" }));
  assert.equal(got.Rules, rules);
  // A rule without an ID gets one.
  await put("conf", [{ Filter: {}, Status: "Enabled", Expiration: { Days: 3 } }]);
  const [made] = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "conf" }))).Rules!;
  assert.ok(made.ID && made.ID.length > 0);
  assert.equal(made.Expiration, { Days: 3 });
  assert.is((await s3.send(new DeleteBucketLifecycleCommand({ Bucket: "conf" }))).$metadata.httpStatusCode, 204);
  await rejects(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "conf" })), "NoSuchLifecycleConfiguration", 404);
  assert.is((await s3.send(new DeleteBucketLifecycleCommand({ Bucket: "conf" }))).$metadata.httpStatusCode, 204);
  await rejects(() => put("no-such-bucket", rules), "NoSuchBucket", 404);
});

test("what S3 refuses is refused, and what kvdb does not do answers 501", async () => {
  const refused: [LifecycleRule[], string, number][] = [
    [[{ ID: "a", Prefix: "x/", Status: "enabled" as never, Expiration: { Days: 1 } }], "MalformedXML", 400],
    [[{ ID: "a", Prefix: "x/", Status: "Enabled", Expiration: { Days: 0 } }], "InvalidArgument", 400],
    [[{ ID: "a", Prefix: "x/", Status: "Enabled", Expiration: { Days: 1 } }, { ID: "a", Prefix: "y/", Status: "Enabled", Expiration: { Days: 2 } }], "InvalidArgument", 400],
    [[{ ID: "a".repeat(256), Prefix: "x/", Status: "Enabled", Expiration: { Days: 1 } }], "InvalidArgument", 400],
    [[{ ID: "a", Prefix: "x/", Status: "Enabled", Expiration: { Date: new Date("2030-01-01T12:00:00Z") } }], "InvalidArgument", 400],
    [[{ ID: "a", Status: "Enabled", Expiration: { Days: 1 } }], "MalformedXML", 400],
    [[{ ID: "a", Prefix: "x/", Filter: { Prefix: "y/" }, Status: "Enabled", Expiration: { Days: 1 } }], "MalformedXML", 400],
    [[{ ID: "a", Prefix: "x/", Status: "Enabled" }], "InvalidRequest", 400],
    [[{ ID: "a", Prefix: "x/", Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 0 } }], "InvalidArgument", 400],
    [[{ ID: "a", Filter: { Tag: { Key: "k", Value: "v" } }, Status: "Enabled", Expiration: { Days: 1 } }], "NotImplemented", 501],
    [[{ ID: "a", Prefix: "x/", Status: "Enabled", Transitions: [{ Days: 1, StorageClass: "GLACIER" }] }], "NotImplemented", 501],
    // test_lifecycle_transition_set_invalid_date: what S3 would refuse is refused first.
    [[{ ID: "a", Prefix: "x/", Status: "Enabled", Transitions: [{ Date: new Date("2022-09-27T12:00:00Z"), StorageClass: "GLACIER" }] }], "InvalidArgument", 400],
  ];
  for (const [rules, code, status] of refused) await rejects(() => put("conf", rules), code, status);
  await rejects(() => put("conf", []), "MalformedXML", 400);
  await rejects(() => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "conf" })), "NoSuchLifecycleConfiguration", 404);
});

test("objects past their Expiration are deleted, the others stay; the run is a job, in the metrics and on the status page", async () => {
  const Bucket = "expiring";
  await s3.send(new CreateBucketCommand({ Bucket }));
  const names = ["expire/a", "expire/b", "keep/a", "disabled/a", "big/small", "big/large"];
  for (const Key of names) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key === "big/large" ? "x".repeat(2000) : "v" }));
  const before = await metric("kvdb_lifecycle_expired_objects_total");
  await put(Bucket, [
    { ID: "one-day", Prefix: "expire/", Status: "Enabled", Expiration: { Days: 1 } },
    { ID: "later", Prefix: "keep/", Status: "Enabled", Expiration: { Days: 1000 } },
    { ID: "off", Prefix: "disabled/", Status: "Disabled", Expiration: { Days: 1 } },
    { ID: "large", Filter: { And: { Prefix: "big/", ObjectSizeGreaterThan: 1000 } }, Status: "Enabled", Expiration: { Days: 1 } },
  ]);
  // A day is a second here: gone within two (S3 rounds up to the next midnight), and a run after.
  await until("the expired objects are gone", async () => (await keys(Bucket)).join() === "big/small,disabled/a,keep/a", 8000);
  await rejects(() => s3.send(new HeadObjectCommand({ Bucket, Key: "expire/a" })), "", 404);
  assert.is((await fetch(`${c.master.url}/${Bucket}/expire/a`)).status, 404, "gone for the curl API too");
  assert.is((await metric("kvdb_lifecycle_expired_objects_total")) - before, 3);
  assert.ok((await metric("kvdb_lifecycle_last_run_timestamp_seconds")) > Date.now() / 1000 - 60);
  const jobs = (await (await fetch(`${c.master.url}/_kvdb/jobs`)).json()) as { kind: string; state: string; counts: Record<string, number>; summary: string }[];
  const runs = jobs.filter((j) => j.kind === "lifecycle");
  assert.ok(runs.length > 0);
  assert.is(runs.reduce((n, j) => n + (j.counts.expired ?? 0), 0), 3);
  const lastRun = async () => ((await (await fetch(`${c.master.url}/_kvdb/status.json`)).json()) as { replication: { lastLifecycle: { summary: string } | null } }).replication.lastLifecycle;
  await until("the status page names the last run", async () => /^lifecycle: \d+ objects expired, \d+ uploads aborted in \d+ buckets with rules$/.test((await lastRun())?.summary ?? ""));
});

test("test_lifecycle_expiration_header_put/_head: PutObject, HeadObject and GetObject answer x-amz-expiration, the first rule's date and ID", async () => {
  const Bucket = "headers";
  await s3.send(new CreateBucketCommand({ Bucket }));
  await put(Bucket, [
    { ID: "later", Prefix: "logs/", Status: "Enabled", Expiration: { Days: 2000 } },
    { ID: "rule one", Prefix: "logs/", Status: "Enabled", Expiration: { Days: 1000 } },
    { ID: "off", Prefix: "logs/", Status: "Disabled", Expiration: { Days: 1 } },
  ]);
  const before = Date.now();
  const put1 = await s3.send(new PutObjectCommand({ Bucket, Key: "logs/a", Body: "v" }));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "logs/a" }));
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "logs/a" }));
  await got.Body!.transformToString();
  for (const expiration of [put1.Expiration, head.Expiration, got.Expiration]) {
    const m = /^expiry-date="([^"]+)", rule-id="rule%20one"$/.exec(expiration ?? "");
    assert.ok(m, String(expiration));
    // A day is a second here: 1000 of them, rounded up to the next "midnight".
    const at = Date.parse(m![1]);
    assert.ok(at >= before + 1_000_000 - 1000 && at <= Date.now() + 1_001_000, `${m![1]}`);
  }
  assert.is((await s3.send(new PutObjectCommand({ Bucket, Key: "other", Body: "v" }))).Expiration, undefined);
});

test("incomplete uploads past AbortIncompleteMultipartUpload are aborted with their parts; others are kept", async () => {
  const Bucket = "uploads";
  await s3.send(new CreateBucketCommand({ Bucket }));
  const stale = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "tmp/big" }));
  const kept = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "other/big" }));
  const before = await metric("kvdb_lifecycle_aborted_uploads_total");
  await put(Bucket, [{ ID: "abort", Filter: { Prefix: "tmp/" }, Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }]);
  const uploads = async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).map((u) => u.UploadId);
  await until("the stale upload is aborted", async () => !(await uploads()).includes(stale.UploadId), 8000);
  assert.equal(await uploads(), [kept.UploadId]);
  assert.is((await metric("kvdb_lifecycle_aborted_uploads_total")) - before, 1);
});

test.run();
