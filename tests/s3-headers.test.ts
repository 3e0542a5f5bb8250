/**
 * The standard headers S3 keeps with an object (Content-Encoding, Cache-Control,
 * Content-Disposition, Content-Language, Expires), through the AWS SDK for JavaScript:
 * stored by PutObject and CreateMultipartUpload, answered by GetObject and HeadObject
 * and by the curl API's volume GETs, kept or replaced by CopyObject's directive; and
 * user metadata that is not ASCII. Tests are named after the ceph s3-tests cases they cover.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { sdk, type Sdk } from "./s3-client.ts";

const B = "headers";
let c: Cluster;
let s: Sdk;
let s3: S3Client;

// An encoding no HTTP client decodes on its own, so that the test sees the header as stored.
const STANDARD = {
  ContentEncoding: "x-kvdb-test",
  CacheControl: "max-age=3600, public",
  ContentDisposition: 'attachment; filename="report.pdf"',
  ContentLanguage: "fr-CA",
  Expires: new Date("2031-05-06T07:08:09Z"),
};
const ON_THE_WIRE = {
  "content-encoding": "x-kvdb-test",
  "cache-control": "max-age=3600, public",
  "content-disposition": 'attachment; filename="report.pdf"',
  "content-language": "fr-CA",
  expires: "Tue, 06 May 2031 07:08:09 GMT",
};

test.before(async () => {
  c = await startCluster({ s3: true });
  s = sdk(c.s3!);
  s3 = s.client;
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
test.after(async () => {
  s3?.destroy();
  await c?.close();
});

function standardOf(o: { ContentEncoding?: string; CacheControl?: string; ContentDisposition?: string; ContentLanguage?: string; ExpiresString?: string }) {
  return { ContentEncoding: o.ContentEncoding, CacheControl: o.CacheControl, ContentDisposition: o.ContentDisposition, ContentLanguage: o.ContentLanguage, Expires: o.ExpiresString };
}
const EXPECTED = { ...STANDARD, Expires: ON_THE_WIRE.expires };

test("test_object_write_cache_control, test_object_write_expires: PutObject keeps the standard headers; GET, HEAD and the volume's GET answer them", async () => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: "doc", Body: "a report", ...STANDARD }));
  assert.equal(standardOf(await s3.send(new HeadObjectCommand({ Bucket: B, Key: "doc" }))), EXPECTED);
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "doc" }));
  assert.equal(standardOf(got), EXPECTED);
  assert.is(await got.Body!.transformToString(), "a report");
  // curl: the master's 302, then the volume answers with them too.
  const res = await fetch(`${c.url}/${B}/doc`);
  assert.is(res.status, 200);
  for (const [name, value] of Object.entries(ON_THE_WIRE)) assert.is(res.headers.get(name), value, name);
  assert.is(await res.text(), "a report");
});

test("an aws-chunked body's Content-Encoding is the framing, not the object's: not kept", async () => {
  // A stream of known length: the SDK sends it aws-chunked (Content-Encoding: aws-chunked) with a CRC32 trailer.
  const streamed = (Key: string, extra: { ContentEncoding?: string }) =>
    s.client.send(new PutObjectCommand({ Bucket: B, Key, Body: Readable.from([Buffer.from("plain")]), ContentLength: 5, ...extra }));
  await streamed("framed", { ContentEncoding: "x-kvdb-test" });
  await streamed("unframed", {});
  assert.equal(s.payloads.slice(-2), ["STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]);
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "framed" }))).ContentEncoding, "x-kvdb-test");
  assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "unframed" }))).ContentEncoding, undefined);
});

test("test_object_copy_retaining_metadata, test_object_copy_replacing_metadata: COPY keeps the standard headers, REPLACE takes the request's", async () => {
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: "kept", CopySource: `${B}/doc` }));
  assert.equal(standardOf(await s3.send(new HeadObjectCommand({ Bucket: B, Key: "kept" }))), EXPECTED);
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: "replaced", CopySource: `${B}/doc`, MetadataDirective: "REPLACE", CacheControl: "no-store" }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "replaced" }));
  assert.equal(standardOf(head), { ContentEncoding: undefined, CacheControl: "no-store", ContentDisposition: undefined, ContentLanguage: undefined, Expires: undefined });
});

test("multipart: the headers given to CreateMultipartUpload are the object's", async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "multi", ...STANDARD }));
  const { ETag } = await s3.send(new UploadPartCommand({ Bucket: B, Key: "multi", UploadId, PartNumber: 1, Body: "one part" }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "multi", UploadId, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }));
  assert.equal(standardOf(await s3.send(new HeadObjectCommand({ Bucket: B, Key: "multi" }))), EXPECTED);
});

test.run();
