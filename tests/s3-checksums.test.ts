/**
 * S3's checksums kept (src/s3/checksums.ts), through @aws-sdk/client-s3: the
 * x-amz-checksum-* a PutObject sent (in a header or the aws-chunked trailer) is answered
 * by GetObject and HeadObject with ChecksumMode ENABLED (and only then, and not for a
 * range); CreateMultipartUpload answers the ChecksumAlgorithm asked for, and the object
 * completed has the checksum S3 defines: COMPOSITE (of the parts' checksums, "-N") or
 * FULL_OBJECT (the CRC of all its bytes, combined from the parts'), compared with the
 * checksums a CompleteMultipartUpload sends (complete-checksum.ts). Named after the ceph
 * s3-tests cases they follow (test_object_checksum_sha256, test_multipart_checksum_*).
 */
import {
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandInput,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type ChecksumAlgorithm,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32, crc64nvme } from "../src/s3/crc.ts";
import { bytes } from "./http.ts";
import { rejects, s3Bucket } from "./s3-client.ts";

const MiB = 1 << 20;
let s3: S3Client;
const Bucket = "sums";

let cluster: Awaited<ReturnType<typeof s3Bucket>>;

test.before(async () => {
  cluster = await s3Bucket(Bucket);
  s3 = cluster.s3;
});

test.after(() => cluster?.close());

const b64 = (b: Buffer) => b.toString("base64");
const sha256 = (b: Buffer) => b64(createHash("sha256").update(b).digest());
const crc = (make: typeof crc32, ...bs: Buffer[]) => {
  const h = make();
  for (const b of bs) h.update(b);
  return h.digest();
};

test("test_object_checksum_sha256: the checksum sent is kept and answered with ChecksumMode ENABLED only", async () => {
  const Body = bytes(100_000, 41);
  await s3.send(new PutObjectCommand({ Bucket, Key: "sha", Body, ChecksumAlgorithm: "SHA256" }));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "sha", ChecksumMode: "ENABLED" }));
  assert.is(head.ChecksumSHA256, sha256(Body));
  assert.is(head.ChecksumType, "FULL_OBJECT");
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "sha", ChecksumMode: "ENABLED" }));
  assert.is(got.ChecksumSHA256, sha256(Body));
  await got.Body!.transformToByteArray();
  const plain = await s3.send(new HeadObjectCommand({ Bucket, Key: "sha" }));
  assert.is(plain.ChecksumSHA256, undefined);
  const ranged = await s3.send(new GetObjectCommand({ Bucket, Key: "sha", ChecksumMode: "ENABLED", Range: "bytes=0-9" }));
  assert.is(ranged.ChecksumSHA256, undefined);
  await ranged.Body!.transformToByteArray();
});

test("the SDK's default CRC32 (sent in the aws-chunked trailer of a streamed body) is kept", async () => {
  const Body = bytes(70_000, 42);
  // A body of unknown length: the SDK streams it aws-chunked, the CRC32 in the trailer.
  const { Readable } = await import("node:stream");
  await s3.send(new PutObjectCommand({ Bucket, Key: "crc", Body: Readable.from([Body]), ContentLength: Body.length }));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "crc", ChecksumMode: "ENABLED" }));
  assert.is(head.ChecksumCRC32, b64(crc(crc32, Body)));
});

/** An upload of `parts` asking for `algorithm` and `type`, completed; the answers of Create and Complete. */
async function upload(Key: string, parts: Buffer[], ChecksumAlgorithm: ChecksumAlgorithm, ChecksumType?: "COMPOSITE" | "FULL_OBJECT") {
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm, ChecksumType }));
  const { UploadId } = created;
  const Parts = [];
  for (const [i, Body] of parts.entries()) {
    const p = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm }));
    Parts.push({ PartNumber: i + 1, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32, ChecksumSHA256: p.ChecksumSHA256, ChecksumCRC64NVME: p.ChecksumCRC64NVME });
  }
  const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ChecksumType }));
  return { created, completed };
}

test("test_multipart_checksum_sha256 / crc32: COMPOSITE, the checksum of the parts' checksums and -N", async () => {
  const parts = [bytes(5 * MiB, 43), bytes(1000, 44)];
  const { created, completed } = await upload("composite", parts, "CRC32");
  assert.is(created.ChecksumAlgorithm, "CRC32");
  assert.is(created.ChecksumType, "COMPOSITE");
  const want = `${b64(crc(crc32, ...parts.map((p) => crc(crc32, p))))}-2`;
  assert.is(completed.ChecksumCRC32, want);
  assert.is(completed.ChecksumType, "COMPOSITE");
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "composite", ChecksumMode: "ENABLED" }));
  assert.is(head.ChecksumCRC32, want);
  const sha = await upload("composite-sha", parts, "SHA256");
  assert.is(sha.completed.ChecksumSHA256, `${b64(createHash("sha256").update(Buffer.concat(parts.map((p) => createHash("sha256").update(p).digest()))).digest())}-2`);
});

test("FULL_OBJECT (CRC64NVME, CRC32): the CRC of all the bytes, combined from the parts' without reading them", async () => {
  const parts = [bytes(5 * MiB, 45), bytes(5 * MiB + 3, 46), bytes(777, 47)];
  const nvme = await upload("full64", parts, "CRC64NVME");
  assert.is(nvme.created.ChecksumType, "FULL_OBJECT");
  assert.is(nvme.completed.ChecksumCRC64NVME, b64(crc(crc64nvme, ...parts)));
  const full32 = await upload("full32", parts, "CRC32", "FULL_OBJECT");
  assert.is(full32.completed.ChecksumCRC32, b64(crc(crc32, ...parts)));
  // The SDK checks a FULL_OBJECT checksum of a whole GET against the bytes it reads.
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "full32", ChecksumMode: "ENABLED" }));
  assert.is(got.ChecksumCRC32, b64(crc(crc32, ...parts)));
  assert.is((await got.Body!.transformToByteArray()).length, 10 * MiB + 780);
});

test("UploadPartCopy into an upload that asked for a checksum: the part gets the checksum of the bytes it took, so the upload completes", async () => {
  const source = bytes(6 * MiB + 5, 50);
  await s3.send(new PutObjectCommand({ Bucket, Key: "copy-source", Body: source })); // the SDK's CRC32, kept
  for (const ChecksumAlgorithm of ["CRC32", "SHA256"] as const) {
    const Key = `copied-${ChecksumAlgorithm}`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm }));
    const whole = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/copy-source` }));
    const slice = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 2, CopySource: `${Bucket}/copy-source`, CopySourceRange: "bytes=100-1099" }));
    const sums = [source, source.subarray(100, 1100)].map((b) => (ChecksumAlgorithm === "CRC32" ? crc(crc32, b) : createHash("sha256").update(b).digest()));
    const field = `Checksum${ChecksumAlgorithm}` as const;
    assert.is(whole.CopyPartResult?.[field], b64(sums[0]));
    assert.is(slice.CopyPartResult?.[field], b64(sums[1]));
    const Parts = [whole, slice].map((p, i) => ({ PartNumber: i + 1, ETag: p.CopyPartResult!.ETag, [field]: p.CopyPartResult![field] }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    const composite = ChecksumAlgorithm === "CRC32" ? crc(crc32, ...sums) : createHash("sha256").update(Buffer.concat(sums)).digest();
    assert.is(done[field], `${b64(composite)}-2`);
  }
});

test("test_multipart_checksum_sha256: the checksum sent with CompleteMultipartUpload is compared (BadDigest), each <Part>'s too (InvalidPart); a retried Complete answers it again", async () => {
  const Body = bytes(1024, 48);
  const start = async (Key: string) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: "SHA256" }));
    const p = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body, ChecksumAlgorithm: "SHA256", ChecksumSHA256: sha256(Body) }));
    return { Key, UploadId, part: { PartNumber: 1, ETag: p.ETag, ChecksumSHA256: p.ChecksumSHA256 } };
  };
  const complete = (u: Awaited<ReturnType<typeof start>>, more: Partial<CompleteMultipartUploadCommandInput>, part = u.part) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId, MultipartUpload: { Parts: [part] }, ...more }));
  const want = `${b64(createHash("sha256").update(createHash("sha256").update(Body).digest()).digest())}-1`;
  const u = await start("complete-sum");
  await rejects(() => complete(u, { ChecksumSHA256: "bad" }), "BadDigest", 400);
  await rejects(() => complete(u, { ChecksumSHA256: want }, { ...u.part, ChecksumSHA256: sha256(bytes(1024, 49)) }), "InvalidPart", 400);
  await rejects(() => complete(u, { ChecksumCRC32: "AAAAAA==" }), "InvalidRequest", 400);
  await rejects(() => complete(u, { ChecksumType: "FULL_OBJECT" }), "InvalidRequest", 400);
  const done = await complete(u, { ChecksumSHA256: want });
  assert.is(done.ChecksumSHA256, want);
  const again = await complete(u, { ChecksumSHA256: want });
  assert.is(again.ETag, done.ETag);
  assert.is(again.ChecksumSHA256, want);
  // Without its "-N", as S3 takes it too; an upload that asked for no checksum has none to compare.
  assert.is((await complete(await start("complete-sum-bare"), { ChecksumSHA256: want.replace(/-1$/, "") })).ChecksumSHA256, want);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "no-sum" }));
  const p = await s3.send(new UploadPartCommand({ Bucket, Key: "no-sum", UploadId, PartNumber: 1, Body }));
  await rejects(() => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: "no-sum", UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] }, ChecksumSHA256: want })), "InvalidRequest", 400);
});

test.run();
