/**
 * UploadPartCopy (src/s3/copy.ts): parts of an upload made on the volumes from whole
 * objects or from ranges of them (x-amz-copy-source-range; volume/assemble.ts reads the
 * slice from its own replica or pulls it with a Range GET), through @aws-sdk/client-s3;
 * an upload mixing copied and uploaded parts completes to the exact bytes. Named after
 * the ceph s3-tests cases they follow (test_multipart_copy_*). The AWS CLI's and boto3's
 * managed copies are in s3-tools.test.ts.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bytes, md5 } from "./http.ts";
import { rejects, s3Bucket } from "./s3-client.ts";

const MiB = 1 << 20;
let s3: S3Client;
const Bucket = "part-copy";
const big = bytes(12 * MiB + 77, 31);
const small = bytes(1000, 32);

let cluster: Awaited<ReturnType<typeof s3Bucket>>;

test.before(async () => {
  // One replica on three volumes: most parts are placed on a volume without the source, which then pulls its slice with a Range GET.
  cluster = await s3Bucket(Bucket, { replicas: 1 });
  s3 = cluster.s3;
  await s3.send(new PutObjectCommand({ Bucket, Key: "big", Body: big }));
  await s3.send(new PutObjectCommand({ Bucket, Key: "small", Body: small }));
});

test.after(() => cluster?.close());

const body = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());

test("test_multipart_copy_multiple_sizes: ranges of a large object, a whole small one and an uploaded part make one object", async () => {
  const Key = "assembled";
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const copy = (PartNumber: number, CopySource: string, CopySourceRange?: string) =>
    s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber, CopySource, CopySourceRange }));
  const p1 = await copy(1, `${Bucket}/big`, `bytes=0-${6 * MiB - 1}`);
  const p2 = await copy(2, `/${Bucket}/big`, `bytes=${6 * MiB}-${big.length - 1}`);
  const p3 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 3, Body: bytes(5 * MiB, 33) }));
  const p4 = await copy(4, `${Bucket}/small`, "bytes=10-509");
  assert.is(p1.CopyPartResult?.ETag, `"${md5(big.subarray(0, 6 * MiB))}"`);
  assert.ok(p1.CopyPartResult?.LastModified instanceof Date);
  const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
  assert.equal(listed.Parts?.map((p) => p.Size), [6 * MiB, big.length - 6 * MiB, 5 * MiB, 500]);
  const Parts = [p1.CopyPartResult!, p2.CopyPartResult!, p3, p4.CopyPartResult!].map((p, i) => ({ ETag: p.ETag, PartNumber: i + 1 }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
  const want = Buffer.concat([big, bytes(5 * MiB, 33), small.subarray(10, 510)]);
  const got = await body(Key);
  assert.is(got.length, want.length);
  assert.is(md5(got), md5(want));
});

test("test_multipart_copy_without_range and _small: the whole source, large or small", async () => {
  const Key = "whole";
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const p1 = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/big` }));
  const p2 = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 2, CopySource: `${Bucket}/small` }));
  const Parts = [p1, p2].map((p, i) => ({ ETag: p.CopyPartResult!.ETag, PartNumber: i + 1 }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
  assert.is(md5(await body(Key)), md5(Buffer.concat([big, small])));
});

test("test_multipart_copy_invalid_range, _improper_range: past the end is InvalidRange, a malformed range InvalidArgument", async () => {
  const Key = "bad";
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const copy = (CopySourceRange: string) => s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/small`, CopySourceRange }));
  await rejects(() => copy("bytes=0-1000"), "InvalidRange", 416);
  for (const range of ["0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-", "bytes=0-2,3-5", "bytes=5-2"]) await rejects(() => copy(range), "InvalidArgument", 400);
  await rejects(() => s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/nope` })), "NoSuchKey", 404);
  await rejects(() => s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId: "nope", PartNumber: 1, CopySource: `${Bucket}/small` })), "NoSuchUpload", 404);
  await rejects(
    () => s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/small`, CopySourceIfMatch: '"nope"' })),
    "PreconditionFailed",
    412,
  );
});

test("GetObjectTagging (asked by the AWS CLI before a multipart copy): an empty tag set; PutObjectTagging stays 501", async () => {
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: "small" }));
  assert.equal(tags.TagSet, []);
  await rejects(() => s3.send(new GetObjectTaggingCommand({ Bucket, Key: "nope" })), "NoSuchKey", 404);
  await rejects(() => s3.send(new PutObjectTaggingCommand({ Bucket, Key: "small", Tagging: { TagSet: [{ Key: "a", Value: "b" }] } })), "NotImplemented", 501);
});

test.run();
