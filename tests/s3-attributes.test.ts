/**
 * GetObjectAttributes (src/s3/attributes.ts) and GetObject ?partNumber=N's checksum,
 * through @aws-sdk/client-s3: the attributes asked for and only those; a multipart
 * object's parts with their sizes and the checksums they were uploaded with, paged with
 * MaxParts and PartNumberMarker; a part's own checksum on GetObject PartNumber with
 * ChecksumMode ENABLED. Named after the ceph s3-tests cases they follow
 * (test_get_object_attributes, test_get_paginated_multipart_object_attributes,
 * test_multipart_use_cksum_helper_*).
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ObjectAttributes,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { KeyRecord } from "../src/master/values.ts";
import { partChecksumOf, withChecksum, withPartChecksums } from "../src/s3/checksums.ts";
import { crc32 } from "../src/s3/crc.ts";
import { bytes } from "./http.ts";
import { rejects, s3Bucket } from "./s3-client.ts";

const MiB = 1 << 20;
const Bucket = "attrs";
const ALL: ObjectAttributes[] = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
let s3: S3Client;
let cluster: Awaited<ReturnType<typeof s3Bucket>>;

test.before(async () => {
  cluster = await s3Bucket(Bucket);
  s3 = cluster.s3;
});

test.after(() => cluster?.close());

const crc32Of = (b: Buffer) => {
  const h = crc32();
  h.update(b);
  return h.digest().toString("base64");
};

test("test_get_checksum_object_attributes: ETag, Checksum, StorageClass, ObjectSize of a plain object; no ObjectParts", async () => {
  const Body = bytes(1024, 7);
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: "plain", Body, ChecksumAlgorithm: "SHA256" }));
  const got = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: "plain", ObjectAttributes: ALL }));
  assert.is(`"${got.ETag}"`, put.ETag);
  assert.is(got.Checksum?.ChecksumSHA256, createHash("sha256").update(Body).digest("base64"));
  assert.is(got.Checksum?.ChecksumType, "FULL_OBJECT");
  assert.is(got.StorageClass, "STANDARD");
  assert.is(got.ObjectSize, 1024);
  assert.is(got.ObjectParts, undefined);
  assert.ok(got.LastModified instanceof Date);
  const some = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: "plain", ObjectAttributes: ["ObjectSize"] }));
  assert.equal([some.ObjectSize, some.ETag, some.Checksum, some.StorageClass], [1024, undefined, undefined, undefined]);
});

test("test_get_paginated_multipart_object_attributes, cksum_helper: parts with sizes and checksums, paged; GetObject PartNumber answers the part's checksum", async () => {
  const parts = [bytes(5 * MiB, 1), bytes(5 * MiB, 2), bytes(MiB, 3)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "mp", ChecksumAlgorithm: "CRC32" }));
  const done = [];
  for (const [i, Body] of parts.entries()) {
    const up = await s3.send(new UploadPartCommand({ Bucket, Key: "mp", UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: "CRC32" }));
    assert.is(up.ChecksumCRC32, crc32Of(Body));
    done.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32 });
  }
  const end = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: "mp", UploadId, MultipartUpload: { Parts: done } }));
  const all = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: "mp", ObjectAttributes: ALL }));
  assert.is(`"${all.ETag}"`, end.ETag);
  assert.is(all.ObjectSize, 11 * MiB);
  assert.equal(all.Checksum, { ChecksumCRC32: end.ChecksumCRC32, ChecksumType: "COMPOSITE" });
  assert.is(all.ObjectParts?.TotalPartsCount, 3);
  assert.is(all.ObjectParts?.IsTruncated, false);
  assert.equal(
    all.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32]),
    parts.map((b, i) => [i + 1, b.length, crc32Of(b)]),
  );
  const page = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: "mp", ObjectAttributes: ["ObjectParts"], MaxParts: 1, PartNumberMarker: "1" }));
  assert.equal(
    [page.ObjectParts?.PartNumberMarker, page.ObjectParts?.NextPartNumberMarker, page.ObjectParts?.MaxParts, page.ObjectParts?.IsTruncated],
    ["1", "2", 1, true],
  );
  assert.equal(page.ObjectParts?.Parts?.map((p) => p.PartNumber), [2]);
  const last = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: "mp", ObjectAttributes: ["ObjectParts"], MaxParts: 10, PartNumberMarker: "2" }));
  assert.equal(last.ObjectParts?.Parts?.map((p) => p.Size), [MiB]);
  assert.is(last.ObjectParts?.IsTruncated, false);
  const part = await s3.send(new GetObjectCommand({ Bucket, Key: "mp", PartNumber: 2, ChecksumMode: "ENABLED" }));
  assert.equal([part.ChecksumCRC32, part.ChecksumType, part.ContentLength], [crc32Of(parts[1]), "COMPOSITE", 5 * MiB]);
  assert.ok(Buffer.from(await part.Body!.transformToByteArray()).equals(parts[1]));
});

test("no attribute or an unknown one: 400 InvalidArgument; no object: 404 NoSuchKey", async () => {
  await rejects(() => s3.send(new GetObjectAttributesCommand({ Bucket, Key: "plain", ObjectAttributes: [] })), "InvalidArgument", 400);
  await rejects(() => s3.send(new GetObjectAttributesCommand({ Bucket, Key: "plain", ObjectAttributes: ["Colour" as ObjectAttributes] })), "InvalidArgument", 400);
  await rejects(() => s3.send(new GetObjectAttributesCommand({ Bucket, Key: "none", ObjectAttributes: ALL })), "NoSuchKey", 404);
});

test("the parts' checksums ride with the value up to 4 KiB of them; past that the parts are answered without them", () => {
  // A SHA-256 is 44 base64 characters: 91 parts fit (91 * 45 - 1 characters), 92 do not.
  const sum = (n: number) => createHash("sha256").update(String(n)).digest("base64");
  const parts = (count: number) => Array.from({ length: count }, (_, i): [number, KeyRecord] => [i + 1, { s3: withChecksum({}, { algorithm: "sha256", type: "FULL_OBJECT", value: sum(i + 1) }) } as KeyRecord]);
  const object = (count: number) => ({ s3: withPartChecksums(withChecksum({}, { algorithm: "sha256", type: "COMPOSITE", value: "x-1" }), parts(count)) }) as KeyRecord;
  assert.equal(partChecksumOf(object(91), 91), { algorithm: "sha256", type: "COMPOSITE", value: sum(91) });
  assert.is(partChecksumOf(object(91), 92), undefined);
  assert.is(partChecksumOf(object(92), 1), undefined);
});

test.run();
