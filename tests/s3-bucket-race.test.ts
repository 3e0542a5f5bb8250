/**
 * DeleteBucket while a PutObject into the bucket streams, on one master with its LevelDB
 * index: the object becomes visible only in the index step that finds its bucket
 * (Index.replace within it), so the delete wins and the PUT stores nothing — as across
 * two masters on PostgreSQL (tests/s3-two-masters.test.ts).
 */
import { CreateBucketCommand, DeleteBucketCommand, HeadBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { filesUnder } from "./http.ts";
import { heldPut, rejects, sdk } from "./s3-client.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let c: Cluster;
let s3: S3Client;

test.before(async () => {
  c = await startCluster({ s3: true });
  s3 = sdk(c.s3!).client;
});

test.after(async () => {
  s3?.destroy();
  await c?.close();
});

test("DeleteBucket in the middle of a streaming PutObject into it: the delete wins, the PUT answers NoSuchBucket and stores nothing", async () => {
  const Bucket = "mid-put";
  await s3.send(new CreateBucketCommand({ Bucket }));
  const { put, finish } = heldPut(s3, Bucket, "obj");
  // Past its bucket check: the replicas are being written (volume/blobs.ts: DIR/tmp/…).
  await until("the PUT is streaming to the volumes", () => c.volumes.some((v) => filesUnder(v.dir).some((f) => /(^|\/)tmp\//.test(f))));
  await s3.send(new DeleteBucketCommand({ Bucket }));
  finish();
  await rejects(() => put, "NoSuchBucket", 404);
  assert.is((await fetch(`${c.url}/${Bucket}/obj`)).status, 404);
  await rejects(() => s3.send(new HeadBucketCommand({ Bucket })), "", 404);
});

test.run();
