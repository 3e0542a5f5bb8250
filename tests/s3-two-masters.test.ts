/**
 * S3 on two masters sharing one PostgreSQL index (docs/MASTERS.md): a
 * bucket made through one is there through the other, and overwrites of one key sent
 * through both at once leave one whole value, the same through either master, and,
 * once the janitors have swept, one stored copy of it per replica (Index.replace is a
 * compare-and-set: src/master/versions.ts retries a lost one); a PutObject through one
 * racing a DeleteBucket through the other never leaves an object in a deleted bucket
 * (Index.replace within the bucket against Index.tables.deleteIfNoKeys); of PutObjects
 * with If-None-Match: * racing through both, exactly one is stored (the condition is
 * checked in Index.replace's compare-and-set: src/s3/conditions.ts).
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { heldPut, rejects, sdk, storedNames, text } from "./s3-client.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let c: Cluster;
let a: S3Client;
let b: S3Client;
const B = "shared";

test.before(async () => {
  c = await startCluster({ s3: true, masters: 2 });
  a = sdk(c.masters[0].s3!).client;
  b = sdk(c.masters[1].s3!).client;
});

test.after(async () => {
  a?.destroy();
  b?.destroy();
  await c?.close();
});

test("a bucket made through one master is there through the other", async () => {
  await a.send(new CreateBucketCommand({ Bucket: B }));
  await b.send(new HeadBucketCommand({ Bucket: B }));
});

test("overwrites of one key through both masters at once: one whole value, one copy of it per replica", async () => {
  const bodies = Array.from({ length: 16 }, (_, i) => `value ${i} `.repeat(5000 + i));
  const results = await Promise.allSettled(bodies.map((Body, i) => (i % 2 ? b : a).send(new PutObjectCommand({ Bucket: B, Key: "raced", Body }))));
  const stored = results.filter((r) => r.status === "fulfilled").length;
  // A write may be refused (409 OperationAborted) while the other master holds the key; most are stored.
  for (const r of results) if (r.status === "rejected") assert.match(String(r.reason), /OperationAborted|conflicting/, String(r.reason));
  assert.ok(stored >= 1, `${stored} of ${bodies.length} stored`);
  const viaA = await text((await a.send(new GetObjectCommand({ Bucket: B, Key: "raced" }))).Body);
  const viaB = await text((await b.send(new GetObjectCommand({ Bucket: B, Key: "raced" }))).Body);
  assert.is(viaA, viaB);
  assert.ok(bodies.includes(viaA), "the value is one of those written, whole");
  // The values replaced are deleted (at once, or by a janitor's sweep of the orphans).
  await until("one stored copy per replica", async () => (await storedNames(c, "/shared/raced")).every((names) => names.length <= 1), 20_000);
  const names = (await storedNames(c, "/shared/raced")).flat();
  assert.is(names.length, 3, names.join(" "));
  assert.is(new Set(names).size, 1, names.join(" "));
});

/** The S3 error code a rejected send failed with. */
const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === "fulfilled" ? "ok" : r.reason instanceof S3ServiceException ? r.reason.name : String(r.reason));

test("DeleteBucket through one master while a PutObject into the bucket streams through the other: the delete wins, the PUT stores nothing", async () => {
  const Bucket = "mid-put";
  await a.send(new CreateBucketCommand({ Bucket }));
  const { put, finish } = heldPut(a, Bucket, "obj");
  // Past its bucket check: the PUT's version record is in flight in the shared index.
  await until("the PUT is writing", () => c.sql("SELECT count(*) FROM kvdb_keys WHERE state = 'writing'") === "1");
  await b.send(new DeleteBucketCommand({ Bucket }));
  finish();
  // NoSuchBucket; on a machine so loaded that the master took a volume for down, a 503
  // (stored nothing either). Never a 200: the object would be in a deleted bucket.
  const failed = await put.then(
    () => assert.unreachable("the PUT into the deleted bucket answered 200"),
    (e: S3ServiceException) => e,
  );
  assert.ok(failed instanceof S3ServiceException && ["NoSuchBucket", "ServiceUnavailable"].includes(failed.name), String(failed));
  assert.is((await fetch(`${c.master.url}/${Bucket}/obj`)).status, 404);
  await rejects(() => b.send(new HeadBucketCommand({ Bucket })), "", 404);
});

test("PutObject through one master racing DeleteBucket through the other: never an object in a deleted bucket", async () => {
  const ROUNDS = 24;
  const deadline = Date.now() + 90_000;
  const seen = new Map<string, number>();
  for (let i = 0; i < ROUNDS && Date.now() < deadline; i++) {
    const Bucket = `race-${i}`;
    const Body = `round ${i} `.repeat(20_000 + 997 * i);
    await a.send(new CreateBucketCommand({ Bucket }));
    await b.send(new HeadBucketCommand({ Bucket }));
    // The delete starts a little later each round, so that it meets the write at different steps.
    const [put, del] = await Promise.allSettled([
      a.send(new PutObjectCommand({ Bucket, Key: "obj", Body })),
      new Promise((r) => setTimeout(r, i % 8)).then(() => b.send(new DeleteBucketCommand({ Bucket }))),
    ]);
    const outcome = `put ${codeOf(put)}, delete ${codeOf(del)}`;
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    assert.ok(put.status === "rejected" || del.status === "rejected", `both succeeded in round ${i}: ${outcome}`);
    const onCurl = await fetch(`${c.master.url}/${Bucket}/obj`);
    if (del.status === "fulfilled") {
      // The bucket is gone and so is any trace of the object, through either master.
      // (ServiceUnavailable: a volume taken for down on a loaded machine; nothing stored either.)
      assert.match(outcome, /^put (NoSuchBucket|OperationAborted|ServiceUnavailable), delete ok$/, outcome);
      assert.is(onCurl.status, 404, outcome);
      for (const s3 of [a, b]) await rejects(() => s3.send(new HeadBucketCommand({ Bucket })), "", 404);
    } else {
      assert.match(outcome, /delete (BucketNotEmpty|OperationAborted|ServiceUnavailable)$/, outcome);
      if (put.status === "fulfilled") {
        assert.is(onCurl.status, 200, outcome);
        assert.is(await onCurl.text(), Body, outcome);
        assert.is(await text((await b.send(new GetObjectCommand({ Bucket, Key: "obj" }))).Body), Body, outcome);
      } else await onCurl.body?.cancel();
      await a.send(new DeleteObjectCommand({ Bucket, Key: "obj" }));
      await b.send(new DeleteBucketCommand({ Bucket }));
    }
  }
  console.log(`race outcomes: ${[...seen].map(([k, n]) => `${n}× ${k}`).join("; ")}`);
});

test("20 PutObjects with If-None-Match: * of one key through both masters at once: exactly one 200, the others 412", async () => {
  await a.send(new CreateBucketCommand({ Bucket: "lock" }));
  const bodies = Array.from({ length: 20 }, (_, i) => `holder ${i} `.repeat(3000 + i));
  const results = await Promise.allSettled(bodies.map((Body, i) => (i % 2 ? b : a).send(new PutObjectCommand({ Bucket: "lock", Key: "terraform.tflock", Body, IfNoneMatch: "*" }))));
  const codes = results.map(codeOf);
  assert.is(codes.filter((c) => c === "ok").length, 1, codes.join(" "));
  assert.is(codes.filter((c) => c === "PreconditionFailed").length, 19, codes.join(" "));
  const winner = bodies[results.findIndex((r) => r.status === "fulfilled")];
  for (const s3 of [a, b]) assert.is(await text((await s3.send(new GetObjectCommand({ Bucket: "lock", Key: "terraform.tflock" }))).Body), winner);
});

test.run();
