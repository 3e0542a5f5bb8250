/**
 * S3 multipart uploads, presigned URLs and overwrites through the AWS SDK for
 * JavaScript (default checksums, then WHEN_REQUIRED): parts become one plain file per
 * replica, readable with curl's redirect and ranges; overwrites are atomic for readers.
 * Tests are named after the ceph s3-tests cases they cover.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { blobPath } from "../src/keys/keys.ts";
import { bytes, md5 } from "./http.ts";
import { rejects, sdk, storedNames, text, type ChecksumMode } from "./s3-client.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

const MiB = 1 << 20;

/** The multipart ETag: md5 of the parts' md5s, then -N. */
function multipartEtag(parts: Buffer[]): string {
  const digests = parts.map((p) => createHash("md5").update(p).digest());
  return `"${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${parts.length}"`;
}

for (const mode of ["WHEN_SUPPORTED", "WHEN_REQUIRED"] as ChecksumMode[]) {
  const test = suite(`S3 multipart, presigned, overwrite; requestChecksumCalculation ${mode}`);
  let c: Cluster;
  let s3: S3Client;
  const B = "multi";

  test.before(async () => {
    c = await startCluster({ s3: true });
    s3 = sdk(c.s3!, mode).client;
    await s3.send(new CreateBucketCommand({ Bucket: B }));
  });
  test.after(async () => {
    s3?.destroy();
    await c?.close();
  });

  async function multipart(Key: string, parts: Buffer[], extra: Record<string, unknown> = {}) {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key, ...extra }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: B, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
    return { UploadId: UploadId!, etags };
  }

  test("test_multipart_upload, test_multipart_upload_contents: the object is one plain file per replica, read by curl and S3 alike", async () => {
    const parts = [bytes(5 * MiB, 1), bytes(5 * MiB, 2), bytes(MiB + 7, 3)];
    const whole = Buffer.concat(parts);
    const { UploadId, etags } = await multipart("big/object", parts, { ContentType: "video/mp4", Metadata: { take: "2" } });
    const listed = await s3.send(new ListPartsCommand({ Bucket: B, Key: "big/object", UploadId }));
    assert.equal(listed.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag]), parts.map((p, i) => [i + 1, p.length, `"${md5(p)}"`]));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: B, Key: "big/object", UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    assert.is(done.ETag, multipartEtag(parts));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "big/object" }));
    assert.is(head.ContentLength, whole.length);
    assert.is(head.ContentType, "video/mp4");
    assert.equal(head.Metadata, { take: "2" });
    assert.is(head.ETag, done.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "big/object" }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(whole));
    // curl: a 302 to a volume, ranges work, and each replica is one plain file of the whole value.
    const ranged = await fetch(`${c.url}/${B}/big/object`, { headers: { range: `bytes=${5 * MiB - 2}-${5 * MiB + 1}` } });
    assert.is(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(whole.subarray(5 * MiB - 2, 5 * MiB + 2)));
    const names = await storedNames(c, `/${B}/big/object`);
    for (const [i, v] of c.volumes.entries()) {
      assert.is(names[i].length, 1, `${v.name} holds one value of the key`);
      assert.is(statSync(join(v.dir, "blobs", blobPath(names[i][0]))).size, whole.length);
    }
    // The parts are gone, and so is the upload.
    await rejects(() => s3.send(new ListPartsCommand({ Bucket: B, Key: "big/object", UploadId })), "NoSuchUpload", 404);
    assert.equal(await partNames(), []);
  });

  /** Every part-named value the volumes hold. */
  async function partNames(cluster = c): Promise<string[]> {
    const all = await Promise.all(cluster.volumes.map(async (v) => (await (await fetch(`http://${v.name}/_kvdb/list`)).text()).split("\n").filter((l) => l.includes("/_kvdb/part/"))));
    return all.flat();
  }

  test("test_multipart_upload_incorrect_etag, _missing_part, InvalidPartOrder, test_multipart_upload_size_too_small, test_multipart_upload_complete_without_create", async () => {
    const parts = [bytes(5 * MiB, 4), bytes(100, 5)];
    const { UploadId, etags } = await multipart("bad", parts);
    const complete = (Parts: { ETag: string; PartNumber: number }[], id = UploadId) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "bad", UploadId: id, MultipartUpload: { Parts } }));
    await rejects(() => complete([{ ETag: '"ffffffffffffffffffffffffffffffff"', PartNumber: 1 }]), "InvalidPart", 400);
    await rejects(() => complete([{ ETag: etags[0], PartNumber: 1 }, { ETag: etags[1], PartNumber: 3 }]), "InvalidPart", 400);
    await rejects(() => complete([{ ETag: etags[1], PartNumber: 2 }, { ETag: etags[0], PartNumber: 1 }]), "InvalidPartOrder", 400);
    await rejects(() => complete([{ ETag: etags[1], PartNumber: 2 }, { ETag: etags[1], PartNumber: 2 }, { ETag: etags[0], PartNumber: 1 }]), "InvalidPartOrder", 400);
    const small = await multipart("small", [bytes(100, 6), bytes(100, 7)]);
    await rejects(
      () => s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "small", UploadId: small.UploadId, MultipartUpload: { Parts: small.etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } })),
      "EntityTooSmall",
      400,
    );
    await rejects(() => complete([{ ETag: etags[0], PartNumber: 1 }], "nosuchupload"), "NoSuchUpload", 404);
    // The upload survived the bad attempts and completes.
    await complete([{ ETag: etags[0], PartNumber: 1 }, { ETag: etags[1], PartNumber: 2 }]);
    assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "bad" }))).ContentLength, 5 * MiB + 100);
  });

  test("test_abort_multipart_upload, test_abort_multipart_upload_not_found, test_list_multipart_upload, test_multipart_upload_resend_part", async () => {
    const a = await multipart("listed/one", [bytes(1000, 8)]);
    const b = await multipart("listed/two", [bytes(1000, 9)]);
    // Sending a part again replaces it.
    await s3.send(new UploadPartCommand({ Bucket: B, Key: "listed/two", UploadId: b.UploadId, PartNumber: 1, Body: "again" }));
    const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: "listed/two", UploadId: b.UploadId }));
    assert.equal(parts.Parts!.map((p) => [p.PartNumber, p.Size]), [[1, 5]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: "listed/" }));
    assert.equal(uploads.Uploads!.map((u) => [u.Key, u.UploadId]), [["listed/one", a.UploadId], ["listed/two", b.UploadId]]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: "listed/one", UploadId: a.UploadId }));
    await rejects(() => s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: "listed/one", UploadId: a.UploadId })), "NoSuchUpload", 404);
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: "listed/" }));
    assert.equal(after.Uploads!.map((u) => u.Key), ["listed/two"]);
  });

  test("uploads never completed are removed with their parts after --s3-upload-ttl", async () => {
    const short = await startCluster({ s3: true, s3UploadTtlMs: 1000 });
    try {
      const client = sdk(short.s3!, mode).client;
      await client.send(new CreateBucketCommand({ Bucket: B }));
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "forgotten" }));
      await client.send(new UploadPartCommand({ Bucket: B, Key: "forgotten", UploadId, PartNumber: 1, Body: bytes(2000, 10) }));
      assert.is((await partNames(short)).length, 3);
      await until("the expired upload is gone", async () => {
        const left = await client.send(new ListMultipartUploadsCommand({ Bucket: B }));
        return !left.Uploads?.length;
      });
      await rejects(() => client.send(new ListPartsCommand({ Bucket: B, Key: "forgotten", UploadId })), "NoSuchUpload", 404);
      await until("its parts are deleted from the volumes", async () => (await partNames(short)).length === 0);
      client.destroy();
    } finally {
      await short.close();
    }
  });

  test("a 64 MiB multipart upload through @aws-sdk/lib-storage", async () => {
    const value = bytes(64 * MiB, 11);
    const upload = new Upload({ client: s3, params: { Bucket: B, Key: "lib-storage/64MiB", Body: value } });
    const done = await upload.done();
    assert.match(done.ETag!, /-13"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "lib-storage/64MiB" }));
    assert.is(head.ContentLength, value.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "lib-storage/64MiB" }));
    assert.is(md5(Buffer.from(await got.Body!.transformToByteArray())), md5(value));
    const curl = await fetch(`${c.url}/${B}/lib-storage/64MiB`, { method: "HEAD", redirect: "manual" });
    assert.is(curl.status, 302);
    assert.is(curl.headers.get("content-md5"), md5(value));
  });

  test("test_object_raw_get_x_amz_expires_not_expired, presigned PUT: @aws-sdk/s3-request-presigner URLs work with a plain HTTP client, and expire", async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: "presigned/file" }), { expiresIn: 60 });
    const put = await fetch(putUrl, { method: "PUT", body: "sent by a plain client" });
    assert.is(put.status, 200, await put.text());
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: "presigned/file" }), { expiresIn: 60 });
    const got = await fetch(getUrl);
    assert.is(await got.text(), "sent by a plain client");
    assert.is((await fetch(getUrl, { method: "HEAD" })).status, 403, "signed for GET, not HEAD");
    const headUrl = await getSignedUrl(s3, new HeadObjectCommand({ Bucket: B, Key: "presigned/file" }), { expiresIn: 60 });
    const head = await fetch(headUrl, { method: "HEAD" });
    assert.is(head.status, 200);
    assert.is(head.headers.get("content-length"), "22");
    const short = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: "presigned/file" }), { expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2100)); // the expiry itself is what is tested
    const expired = await fetch(short);
    assert.is(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired/);
    // test_object_raw_put_authenticated_expired signs with ExpiresIn=-1000: S3 answers 400 (radosgw 403).
    const negative = await fetch(putUrl.replace("X-Amz-Expires=60", "X-Amz-Expires=-1000"), { method: "PUT", body: "x" });
    assert.is(negative.status, 400);
    assert.match(await negative.text(), /<Code>AuthorizationQueryParametersError<\/Code><Message>X-Amz-Expires must be non-negative</);
  });

  test("PutObject replaces a value atomically: a GET in progress finishes with the old bytes, the next gets the new, the old replicas are deleted", async () => {
    const old = bytes(8 * MiB, 12);
    const fresh = bytes(3 * MiB, 13);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "atomic", Body: old }));
    const oldNames = (await storedNames(c, `/${B}/atomic`)).flat();
    const reading = await s3.send(new GetObjectCommand({ Bucket: B, Key: "atomic" }));
    const reader = (reading.Body as unknown as ReadableStream<Uint8Array>).getReader?.() ?? undefined;
    const stream = reading.Body as AsyncIterable<Uint8Array>;
    const it = reader ? undefined : stream[Symbol.asyncIterator]();
    const first = reader ? await reader.read() : await it!.next();
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "atomic", Body: fresh }));
    const chunks = [Buffer.from(first.value!)];
    for (;;) {
      const next = reader ? await reader.read() : await it!.next();
      if (next.done) break;
      chunks.push(Buffer.from(next.value));
    }
    assert.is(md5(Buffer.concat(chunks)), md5(old), "the GET in progress got the old bytes, whole");
    const now = await s3.send(new GetObjectCommand({ Bucket: B, Key: "atomic" }));
    assert.is(md5(Buffer.from(await now.Body!.transformToByteArray())), md5(fresh));
    const names = (await storedNames(c, `/${B}/atomic`)).flat();
    assert.is(names.length, 3, "one value per replica");
    assert.ok(names.every((n) => !oldNames.includes(n)), "the old replicas are gone");
  });

  test("test_multipart_upload_overwrite_existing_object; CopyObject onto an object replaces it", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "over", Body: "old" }));
    const parts = [bytes(5 * MiB, 14), bytes(10, 15)];
    const { UploadId, etags } = await multipart("over", parts);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "over", UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "over" }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts)));
    assert.is((await storedNames(c, `/${B}/over`)).flat().length, 3);
    assert.is(await text((await s3.send(new GetObjectCommand({ Bucket: B, Key: "over", Range: "bytes=0-1" }))).Body), parts[0].subarray(0, 2).toString());
  });

  test.run();
}
