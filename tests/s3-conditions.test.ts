/**
 * S3's conditional writes and deletes (src/s3/conditions.ts), through @aws-sdk/client-s3
 * on one master: PutObject, CompleteMultipartUpload and CopyObject with If-None-Match /
 * If-Match; DeleteObject with If-Match, x-amz-if-match-last-modified-time and
 * x-amz-if-match-size; DeleteObjects' per-object ETag, LastModifiedTime and Size; a
 * conditional header kvdb does not honour answers 501. Named after the ceph s3-tests cases
 * they follow (test_put_object_if_match, test_multipart_put_object_if_match,
 * test_delete_object_if_match*, test_delete_objects_if_match*). The race across two
 * masters is in s3-two-masters.test.ts.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rejects, s3Bucket } from "./s3-client.ts";

let s3: S3Client;
const Bucket = "cond";

let cluster: Awaited<ReturnType<typeof s3Bucket>>;

test.before(async () => {
  cluster = await s3Bucket(Bucket);
  s3 = cluster.s3;
});

test.after(() => cluster?.close());

const put = (Key: string, o: { IfMatch?: string; IfNoneMatch?: string } = {}, Body = "abc") => s3.send(new PutObjectCommand({ Bucket, Key, Body, ...o }));

test("test_put_object_if_match: If-None-Match refuses an existing object, If-Match a missing or different one", async () => {
  const Key = "obj";
  const { ETag: etag } = await put(Key, { IfNoneMatch: "*" });
  await rejects(() => put(Key, { IfNoneMatch: "*" }), "PreconditionFailed", 412);
  await rejects(() => put(Key, { IfNoneMatch: etag }), "PreconditionFailed", 412);
  await put(Key, { IfNoneMatch: '"badetag"' });
  await put(Key, { IfMatch: etag }, "abc");
  await s3.send(new DeleteObjectCommand({ Bucket, Key }));
  await rejects(() => put(Key, { IfMatch: "*" }), "NoSuchKey", 404);
  await rejects(() => put(Key, { IfMatch: '"badetag"' }), "NoSuchKey", 404);
  await put(Key, { IfNoneMatch: etag });
  await put(Key, { IfMatch: "*" }, "new");
  await rejects(() => put(Key, { IfMatch: etag }), "PreconditionFailed", 412);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  assert.is(head.ContentLength, 3);
  assert.is.not(head.ETag, etag, "the refused writes stored nothing");
});

/** A one-part upload of `body` completed with these conditions. */
async function completed(Key: string, o: { IfMatch?: string; IfNoneMatch?: string } = {}, body = "abc") {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body }));
  return s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] }, ...o }));
}

test("test_multipart_put_object_if_match: CompleteMultipartUpload honours If-None-Match and If-Match", async () => {
  const Key = "multi";
  const { ETag: etag } = await completed(Key, { IfNoneMatch: "*" });
  await rejects(() => completed(Key, { IfNoneMatch: "*" }), "PreconditionFailed", 412);
  await rejects(() => completed(Key, { IfNoneMatch: etag }), "PreconditionFailed", 412);
  const { ETag: second } = await completed(Key, { IfMatch: etag });
  await rejects(() => completed(Key, { IfMatch: '"badetag"' }), "PreconditionFailed", 412);
  await s3.send(new DeleteObjectCommand({ Bucket, Key }));
  await rejects(() => completed(Key, { IfMatch: second }), "NoSuchKey", 404);
});

test("CopyObject honours If-None-Match on its destination", async () => {
  await put("copy-src");
  await put("copy-dst");
  await rejects(() => s3.send(new CopyObjectCommand({ Bucket, Key: "copy-dst", CopySource: `${Bucket}/copy-src`, IfNoneMatch: "*" })), "PreconditionFailed", 412);
  await s3.send(new CopyObjectCommand({ Bucket, Key: "copy-new", CopySource: `${Bucket}/copy-src`, IfNoneMatch: "*" }));
});

test("test_delete_object_if_match, _last_modified_time, _size: a wrong condition is 412, a missing object 204", async () => {
  const Key = "del";
  const { ETag } = await put(Key);
  const { LastModified } = await s3.send(new HeadObjectCommand({ Bucket, Key }));
  await rejects(() => s3.send(new DeleteObjectCommand({ Bucket, Key, IfMatch: '"badetag"' })), "PreconditionFailed", 412);
  await rejects(() => s3.send(new DeleteObjectCommand({ Bucket, Key, IfMatchLastModifiedTime: new Date(2015, 0, 1) })), "PreconditionFailed", 412);
  await rejects(() => s3.send(new DeleteObjectCommand({ Bucket, Key, IfMatchSize: 4 })), "PreconditionFailed", 412);
  await s3.send(new HeadObjectCommand({ Bucket, Key }));
  const gone = await s3.send(new DeleteObjectCommand({ Bucket, Key, IfMatch: ETag, IfMatchLastModifiedTime: LastModified, IfMatchSize: 3 }));
  assert.is(gone.$metadata.httpStatusCode, 204);
  await rejects(() => s3.send(new HeadObjectCommand({ Bucket, Key })), "", 404);
  const missing = await s3.send(new DeleteObjectCommand({ Bucket, Key, IfMatch: '"badetag"' }));
  assert.is(missing.$metadata.httpStatusCode, 204);
});

test("test_delete_objects_if_match*: each <Object>'s ETag, LastModifiedTime and Size", async () => {
  const { ETag } = await put("many");
  const { LastModified } = await s3.send(new HeadObjectCommand({ Bucket, Key: "many" }));
  const wrong = await s3.send(
    new DeleteObjectsCommand({
      Bucket,
      Delete: { Objects: [{ Key: "many", ETag: '"badetag"' }, { Key: "many", LastModifiedTime: new Date(2015, 0, 1) }, { Key: "many", Size: 1 }] },
    }),
  );
  assert.equal(
    wrong.Errors?.map((e) => e.Code),
    ["PreconditionFailed", "PreconditionFailed", "PreconditionFailed"],
  );
  const right = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: "many", ETag, LastModifiedTime: LastModified, Size: 3 }] } }));
  assert.equal(right.Deleted?.map((d) => d.Key), ["many"]);
  await rejects(() => s3.send(new HeadObjectCommand({ Bucket, Key: "many" })), "", 404);
});

/** `cmd` sent with extra request headers. */
function withHeaders<T extends { middlewareStack: { add: (...a: never[]) => void } }>(cmd: T, headers: Record<string, string>): T {
  (cmd.middlewareStack.add as (mw: unknown, o: unknown) => void)(
    (next: (a: unknown) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: "build" },
  );
  return cmd;
}

test("a conditional header kvdb does not honour is 501, never ignored", async () => {
  const since = new Date().toUTCString();
  await rejects(() => s3.send(withHeaders(new PutObjectCommand({ Bucket, Key: "unmod", Body: "x" }), { "if-unmodified-since": since })), "NotImplemented", 501);
  await rejects(() => s3.send(withHeaders(new PutObjectCommand({ Bucket, Key: "size", Body: "x" }), { "x-amz-if-match-size": "1" })), "NotImplemented", 501);
  await rejects(() => s3.send(withHeaders(new DeleteObjectCommand({ Bucket, Key: "nm" }), { "if-none-match": "*" })), "NotImplemented", 501);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "part" }));
  await rejects(() => s3.send(withHeaders(new UploadPartCommand({ Bucket, Key: "part", UploadId, PartNumber: 1, Body: "x" }), { "if-none-match": "*" })), "NotImplemented", 501);
});

test.run();
