/**
 * S3 multipart objects as the AWS SDK for JavaScript reads and completes them:
 * GetObject/HeadObject with PartNumber (a parallel downloader's requests: 206 with that
 * part's bytes), a CompleteMultipartUpload sent again after a lost answer, a part
 * named twice in one Complete. Tests are named after the ceph s3-tests cases they cover.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { bytes } from "./http.ts";
import { rejects, sdk } from "./s3-client.ts";

const MiB = 1 << 20;
const B = "parts";
let c: Cluster;
let s3: S3Client;

test.before(async () => {
  c = await startCluster({ s3: true });
  s3 = sdk(c.s3!).client;
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
test.after(async () => {
  s3?.destroy();
  await c?.close();
});

async function upload(Key: string, parts: Buffer[]) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key }));
  const etags: string[] = [];
  for (const [i, Body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: B, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
  return { UploadId: UploadId!, etags };
}

test("test_multipart_get_part: PartNumber=N reads that part (206, Content-Range, PartsCount); past the last part is InvalidPartNumber", async () => {
  const parts = [bytes(5 * MiB, 1), bytes(5 * MiB + 3, 2), bytes(MiB + 7, 3)];
  const { UploadId, etags } = await upload("pieces", parts);
  await rejects(() => s3.send(new GetObjectCommand({ Bucket: B, Key: "pieces", PartNumber: 1 })), "NoSuchKey", 404);
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: "pieces", UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
  );
  let start = 0;
  for (const [i, part] of parts.entries()) {
    const range = `bytes ${start}-${start + part.length - 1}/${5 * MiB + 5 * MiB + 3 + MiB + 7}`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "pieces", PartNumber: i + 1 }));
    assert.is(head.$metadata.httpStatusCode, 206);
    assert.is(head.PartsCount, 3);
    assert.is(head.ContentLength, part.length);
    assert.is(head.ContentRange, range);
    assert.is(head.ETag, done.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "pieces", PartNumber: i + 1 }));
    assert.is(got.$metadata.httpStatusCode, 206);
    assert.is(got.PartsCount, 3);
    assert.is(got.ContentRange, range);
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(part), `part ${i + 1}`);
    start += part.length;
  }
  await rejects(() => s3.send(new GetObjectCommand({ Bucket: B, Key: "pieces", PartNumber: 4 })), "InvalidPartNumber", 416);
  await rejects(() => s3.send(new HeadObjectCommand({ Bucket: B, Key: "pieces", PartNumber: 4 })), "", 416);
  await rejects(() => s3.send(new GetObjectCommand({ Bucket: B, Key: "pieces", PartNumber: 1, Range: "bytes=0-1" })), "InvalidRequest", 400);
});

test("test_non_multipart_get_part: PartNumber=1 of an object not made by multipart is the whole object; 2 is InvalidPartNumber", async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: "single", Body: "body" }));
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "single", PartNumber: 1 }));
  assert.is(got.ETag, put.ETag);
  assert.is(await got.Body!.transformToString(), "body");
  assert.is(got.ContentRange, "bytes 0-3/4");
  await rejects(() => s3.send(new GetObjectCommand({ Bucket: B, Key: "single", PartNumber: 2 })), "InvalidPartNumber", 416);
});

test("a CompleteMultipartUpload sent again (its answer lost) answers 200 with the same ETag; the upload is no longer listed or writable", async () => {
  const parts = [bytes(5 * MiB, 4), bytes(10, 5)];
  const { UploadId, etags } = await upload("retried", parts);
  const complete = () =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "retried", UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  const first = await complete();
  const again = await complete();
  assert.is(again.$metadata.httpStatusCode, 200);
  assert.is(again.ETag, first.ETag);
  assert.ok(first.ETag!.endsWith('-2"'));
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
  assert.ok(!(listed.Uploads ?? []).some((u) => u.UploadId === UploadId));
  await rejects(() => s3.send(new UploadPartCommand({ Bucket: B, Key: "retried", UploadId, PartNumber: 3, Body: "late" })), "NoSuchUpload", 404);
  assert.ok(Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: B, Key: "retried" }))).Body!.transformToByteArray()).equals(Buffer.concat(parts)));
});

test("a part named twice in one CompleteMultipartUpload counts once, its last copy", async () => {
  const parts = [bytes(5 * MiB, 6), bytes(20, 7)];
  const { UploadId, etags } = await upload("twice", parts);
  const Parts = [
    { ETag: etags[0], PartNumber: 1 },
    { ETag: '"00000000000000000000000000000000"', PartNumber: 2 },
    { ETag: etags[1], PartNumber: 2 },
  ];
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "twice", UploadId, MultipartUpload: { Parts } }));
  assert.ok(done.ETag!.endsWith('-2"'), done.ETag);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "twice" }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)));
  assert.is(got.PartsCount, 2);
  const second = await s3.send(new GetObjectCommand({ Bucket: B, Key: "twice", PartNumber: 2 }));
  assert.ok(Buffer.from(await second.Body!.transformToByteArray()).equals(parts[1]));
});

test.run();
