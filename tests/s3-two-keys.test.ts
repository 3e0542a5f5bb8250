/**
 * Two users on S3 (issue 26's s3-tests target): two keys in the index, each with a write
 * grant on its own bucket names, through @aws-sdk/client-s3. What S3 answers another
 * user, where kvdb's grants say the same (src/s3/keys.ts, src/s3/app.ts door):
 * creating a bucket that exists without a grant on it is 409 BucketAlreadyExists
 * (s3-tests' test_bucket_create_exists_nonowner); reading, and copying from, a bucket
 * without a grant is 403 AccessDenied (test_object_copy_not_owned_bucket), for
 * UploadPartCopy too; ListBuckets answers each key the buckets its grants reach.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { tempDir } from "../harness/paths.ts";
import { bootstrapKey } from "../src/ops/keys.ts";
import { rejects, sdk, text } from "./s3-client.ts";

const dir = tempDir("kvdb-two-keys");
const db = join(dir, "index");
let c: Cluster;
let alice: S3Client;
let bob: S3Client;

/** A key with a write grant on the buckets named `prefix`…, made in the index before its master opens it (a LevelDB index has one process). */
async function keyFor(name: string, prefix: string): Promise<{ accessKey: string; secretKey: string }> {
  const lines = await bootstrapKey(db, name, [{ level: "write", prefix }]);
  const field = (f: string) => new RegExp(`^${f}=(\\S+)$`, "m").exec(lines)![1];
  return { accessKey: field("id"), secretKey: field("secret") };
}

const names = async (client: S3Client) => ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);

test.before(async () => {
  const keys = [await keyFor("alice", "alice-"), await keyFor("bob", "bob-")];
  c = await startCluster({ dir, db, s3: true });
  [alice, bob] = keys.map((k) => sdk(c.s3!, "WHEN_SUPPORTED", k).client);
});

test.after(() => c?.close());

test("test_bucket_create_exists_nonowner: another key's existing bucket is 409 BucketAlreadyExists; one's own again is 200; a new name without a grant is 403", async () => {
  await alice.send(new CreateBucketCommand({ Bucket: "alice-photos" }));
  await rejects(() => bob.send(new CreateBucketCommand({ Bucket: "alice-photos" })), "BucketAlreadyExists", 409);
  await alice.send(new CreateBucketCommand({ Bucket: "alice-photos" }));
  await rejects(() => bob.send(new CreateBucketCommand({ Bucket: "carol-files" })), "AccessDenied", 403);
});

test("test_object_copy_not_owned_bucket: no read grant on the source bucket, no copy (CopyObject and UploadPartCopy: 403 AccessDenied, nothing stored)", async () => {
  await alice.send(new PutObjectCommand({ Bucket: "alice-photos", Key: "cat.jpg", Body: "meow" }));
  await bob.send(new CreateBucketCommand({ Bucket: "bob-stuff" }));
  await rejects(() => bob.send(new GetObjectCommand({ Bucket: "alice-photos", Key: "cat.jpg" })), "AccessDenied", 403);
  await rejects(() => bob.send(new CopyObjectCommand({ Bucket: "bob-stuff", Key: "stolen", CopySource: "alice-photos/cat.jpg" })), "AccessDenied", 403);
  const { UploadId } = await bob.send(new CreateMultipartUploadCommand({ Bucket: "bob-stuff", Key: "part" }));
  await rejects(
    () => bob.send(new UploadPartCopyCommand({ Bucket: "bob-stuff", Key: "part", UploadId, PartNumber: 1, CopySource: "alice-photos/cat.jpg" })),
    "AccessDenied",
    403,
  );
  await rejects(() => bob.send(new HeadObjectCommand({ Bucket: "bob-stuff", Key: "stolen" })), "NotFound", 404);
  // Where the grant allows, the copy is made.
  await bob.send(new PutObjectCommand({ Bucket: "bob-stuff", Key: "mine", Body: "bob's" }));
  await bob.send(new CopyObjectCommand({ Bucket: "bob-stuff", Key: "copy", CopySource: "bob-stuff/mine" }));
  assert.is(await text((await bob.send(new GetObjectCommand({ Bucket: "bob-stuff", Key: "copy" }))).Body), "bob's");
});

test("ListBuckets answers each key the buckets its grants reach, the configured pair all", async () => {
  assert.equal(await names(alice), ["alice-photos"]);
  assert.equal(await names(bob), ["bob-stuff"]);
  assert.equal(await names(sdk(c.s3!).client), ["alice-photos", "bob-stuff"]);
});

test.run();
