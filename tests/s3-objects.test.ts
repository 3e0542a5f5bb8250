/**
 * The S3 API through @aws-sdk/client-s3: buckets, objects, conditions, ranges, copy,
 * listing — once with the SDK's default settings (CRC32 checksums, in aws-chunked
 * trailers for streamed bodies) and once with requestChecksumCalculation WHEN_REQUIRED,
 * on a LevelDB index; then the default settings again on a PostgreSQL index (a real
 * server: harness/postgres.ts).
 * Tests are named after the ceph s3-tests cases they cover.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { bytes, md5 } from "./http.ts";
import { freshDatabase, startPostgres, type Postgres } from "../harness/postgres.ts";
import { rejects, sdk, text, type ChecksumMode, type Sdk } from "./s3-client.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";

const RUNS: [ChecksumMode, "LevelDB" | "PostgreSQL"][] = [
  ["WHEN_SUPPORTED", "LevelDB"],
  ["WHEN_REQUIRED", "LevelDB"],
  ["WHEN_SUPPORTED", "PostgreSQL"],
];

for (const [mode, db] of RUNS) {
  const test = suite(`S3 objects, requestChecksumCalculation ${mode}, index in ${db}`);
  let pg: Postgres | undefined;
  let c: Cluster;
  let s: Sdk;
  let s3: S3Client;
  const B = "objects";

  test.before(async () => {
    if (db === "PostgreSQL") pg = await startPostgres();
    c = await startCluster({ s3: true, db: pg && freshDatabase(pg) });
    s = sdk(c.s3!, mode);
    s3 = s.client;
    await s3.send(new CreateBucketCommand({ Bucket: B }));
  });
  test.after(async () => {
    s3?.destroy();
    await c?.close();
    await pg?.close();
  });

  const put = (Key: string, Body: string | Buffer | Readable, extra: Record<string, unknown> = {}) => s3.send(new PutObjectCommand({ Bucket: B, Key, Body, ...extra }));
  const get = async (Key: string, extra: Record<string, unknown> = {}) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: B, Key, ...extra }));
    return { res, body: await text(res.Body) };
  };

  test("test_bucket_create_exists, test_bucket_head, test_bucket_head_notexist, ListBuckets, GetBucketLocation", async () => {
    // Created again by its owner: 200 in us-east-1 (no LocationConstraint), 409 in any other region, as S3 answers.
    assert.is((await s3.send(new CreateBucketCommand({ Bucket: B }))).$metadata.httpStatusCode, 200);
    await s3.send(new HeadBucketCommand({ Bucket: B }));
    await rejects(() => s3.send(new HeadBucketCommand({ Bucket: "nosuchbucket" })), "NotFound", 404);
    await s3.send(new CreateBucketCommand({ Bucket: "in-eu", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } }));
    await rejects(() => s3.send(new CreateBucketCommand({ Bucket: "in-eu", CreateBucketConfiguration: { LocationConstraint: "eu-west-1" } })), "BucketAlreadyOwnedByYou", 409);
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    assert.equal(names, ["in-eu", B]);
    assert.is((await s3.send(new GetBucketLocationCommand({ Bucket: "in-eu" }))).LocationConstraint, "eu-west-1");
    assert.is((await s3.send(new GetBucketLocationCommand({ Bucket: B }))).LocationConstraint, undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: "in-eu" }));
  });

  test("test_bucket_create_naming_bad_short_one, _bad_ip, _dns_dot_dash, _dns_dash_dot: InvalidBucketName", async () => {
    for (const Bucket of ["a", "192.168.5.4", "foo.-bar", "foo-.bar", "foo..bar"]) await rejects(() => s3.send(new CreateBucketCommand({ Bucket })), "InvalidBucketName", 400);
  });

  test("test_bucket_delete_nonempty, test_bucket_delete_notexist", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "doomed" }));
    await s3.send(new PutObjectCommand({ Bucket: "doomed", Key: "k", Body: "v" }));
    await rejects(() => s3.send(new DeleteBucketCommand({ Bucket: "doomed" })), "BucketNotEmpty", 409);
    await s3.send(new DeleteObjectCommand({ Bucket: "doomed", Key: "k" }));
    await s3.send(new DeleteBucketCommand({ Bucket: "doomed" }));
    await rejects(() => s3.send(new DeleteBucketCommand({ Bucket: "doomed" })), "NoSuchBucket", 404);
    await rejects(() => s3.send(new PutObjectCommand({ Bucket: "doomed", Key: "k", Body: "v" })), "NoSuchBucket", 404);
  });

  test("test_object_write_read_update_read_delete, test_object_read_not_exist (buffers and streams)", async () => {
    const first = bytes(300_000, 1);
    const put1 = await put("rw/obj", first);
    assert.is(put1.ETag, `"${md5(first)}"`);
    assert.ok((await get("rw/obj")).body === first.toString());
    const second = bytes(200_000, 2);
    const put2 = await put("rw/obj", Readable.from([second.subarray(0, 70_000), second.subarray(70_000)]), { ContentLength: second.length });
    assert.is(put2.ETag, `"${md5(second)}"`);
    const { res, body } = await get("rw/obj");
    assert.is(res.ContentLength, second.length);
    assert.ok(body === second.toString());
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "rw/obj" }));
    await rejects(() => get("rw/obj"), "NoSuchKey", 404);
    // 204 also when absent
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "rw/obj" }));
    if (mode === "WHEN_SUPPORTED") assert.ok(s.payloads.includes("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), s.payloads.join(" "));
    else assert.not.ok(s.payloads.some((p) => p.includes("TRAILER")), s.payloads.join(" "));
  });

  test("test_object_head_zero_bytes: a 0-byte object is stored, listed, read", async () => {
    const res = await put("empty", "");
    assert.is(res.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "empty" }));
    assert.is(head.ContentLength, 0);
    assert.is((await get("empty")).body, "");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "empty" }));
    assert.equal(listed.Contents?.map((o) => [o.Key, o.Size]), [["empty", 0]]);
  });

  test("test_object_set_get_metadata_none_to_good, test_object_metadata_replaced_on_put: HeadObject headers", async () => {
    await put("meta", "with metadata", { ContentType: "text/x-kvdb", Metadata: { color: "blue", shape: "round" } });
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "meta" }));
    assert.is(head.ContentType, "text/x-kvdb");
    assert.equal(head.Metadata, { color: "blue", shape: "round" });
    assert.is(head.ContentLength, 13);
    assert.is(head.ETag, `"${md5("with metadata")}"`);
    assert.ok(head.LastModified instanceof Date && Math.abs(head.LastModified.getTime() - Date.now()) < 60_000);
    await put("meta", "again", { Metadata: { color: "red" } });
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "meta" }))).Metadata, { color: "red" });
  });

  test("test_ranged_request_response_code, _skip_leading_bytes_, _return_trailing_bytes_, _invalid_range, _empty_object", async () => {
    const content = "testcontent";
    await put("ranged", content);
    let r = await get("ranged", { Range: "bytes=4-7" });
    assert.is(r.body, "cont");
    assert.is(r.res.ContentRange, "bytes 4-7/11");
    assert.is(r.res.$metadata.httpStatusCode, 206);
    r = await get("ranged", { Range: "bytes=4-" });
    assert.is(r.body, "content");
    r = await get("ranged", { Range: "bytes=-7" });
    assert.is(r.body, "content");
    await rejects(() => get("ranged", { Range: "bytes=40-50" }), "InvalidRange", 416);
    await put("ranged-empty", "");
    await rejects(() => get("ranged-empty", { Range: "bytes=40-50" }), "InvalidRange", 416);
  });

  test("test_get_object_ifmatch_good/_failed, _ifnonematch_good/_failed, _ifmodifiedsince_good/_failed, _ifunmodifiedsince_good/_failed", async () => {
    const { ETag } = await put("cond", "bar");
    assert.is((await get("cond", { IfMatch: ETag })).body, "bar");
    await rejects(() => get("cond", { IfMatch: '"ABCORZ"' }), "PreconditionFailed", 412);
    assert.is((await get("cond", { IfNoneMatch: '"ABCORZ"' })).body, "bar");
    await rejects(() => get("cond", { IfNoneMatch: ETag }), "", 304);
    const past = new Date("Sat, 29 Oct 1994 19:43:31 GMT");
    const future = new Date(Date.now() + 3600_000);
    assert.is((await get("cond", { IfModifiedSince: past })).body, "bar");
    await rejects(() => get("cond", { IfModifiedSince: future }), "", 304);
    assert.is((await get("cond", { IfUnmodifiedSince: future })).body, "bar");
    await rejects(() => get("cond", { IfUnmodifiedSince: past }), "PreconditionFailed", 412);
  });

  test("test_multi_object_delete: DeleteObjects answers per key", async () => {
    for (const k of ["md/a", "md/b", "md/c"]) await put(k, k);
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "md/a" }, { Key: "md/b" }, { Key: "md/never" }] } }));
    assert.equal(res.Deleted!.map((d) => d.Key).sort(), ["md/a", "md/b", "md/never"]);
    assert.is(res.Errors, undefined);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "md/" }));
    assert.equal(left.Contents!.map((o) => o.Key), ["md/c"]);
  });

  test("test_object_copy_same_bucket, _diff_bucket, _zero_size, _to_itself, _to_itself_with_metadata, _replacing_metadata, _key_not_found, _bucket_not_found", async () => {
    const value = bytes(100_000, 3);
    await put("copy/src", value, { ContentType: "image/png", Metadata: { a: "1" } });
    const copied = await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy/dst", CopySource: `${B}/copy/src` }));
    assert.is(copied.CopyObjectResult!.ETag, `"${md5(value)}"`);
    const { res, body } = await get("copy/dst");
    assert.ok(body === value.toString());
    assert.is(res.ContentType, "image/png");
    assert.equal(res.Metadata, { a: "1" });
    await s3.send(new CreateBucketCommand({ Bucket: "other" }));
    await s3.send(new CopyObjectCommand({ Bucket: "other", Key: "elsewhere", CopySource: `${B}/copy/src` }));
    await put("copy/zero", "");
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy/zero-copy", CopySource: `${B}/copy/zero` }));
    assert.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: "copy/zero-copy" }))).ContentLength, 0);
    await rejects(() => s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy/src", CopySource: `${B}/copy/src` })), "InvalidRequest", 400);
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "copy/src", CopySource: `${B}/copy/src`, MetadataDirective: "REPLACE", ContentType: "text/plain", Metadata: { b: "2" } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "copy/src" }));
    assert.is(head.ContentType, "text/plain");
    assert.equal(head.Metadata, { b: "2" });
    assert.ok((await get("copy/src")).body === value.toString());
    await rejects(() => s3.send(new CopyObjectCommand({ Bucket: B, Key: "x", CopySource: `${B}/copy/none` })), "NoSuchKey", 404);
    await rejects(() => s3.send(new CopyObjectCommand({ Bucket: B, Key: "x", CopySource: "nosuchbucket/a" })), "NoSuchBucket", 404);
    await rejects(
      () => s3.send(new CopyObjectCommand({ Bucket: B, Key: "x", CopySource: `${B}/copy/src`, CopySourceIfMatch: '"nomatch"' })),
      "PreconditionFailed",
      412,
    );
  });

  test("test_bucket_listv2_delimiter_basic, _prefix_basic, _maxkeys_one, _continuationtoken, test_basic_key_count", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "list" }));
    for (const k of ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"]) await s3.send(new PutObjectCommand({ Bucket: "list", Key: k, Body: k }));
    const d = await s3.send(new ListObjectsV2Command({ Bucket: "list", Delimiter: "/" }));
    assert.equal(d.Contents!.map((o) => o.Key), ["asdf"]);
    assert.equal(d.CommonPrefixes!.map((p) => p.Prefix), ["boo/", "cquux/"]);
    assert.is(d.KeyCount, 3);
    assert.is(d.IsTruncated, false);
    const p = await s3.send(new ListObjectsV2Command({ Bucket: "list", Prefix: "boo/", Delimiter: "/" }));
    assert.equal(p.Contents!.map((o) => o.Key), ["boo/bar"]);
    assert.equal(p.CommonPrefixes!.map((x) => x.Prefix), ["boo/baz/"]);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: "list", MaxKeys: 1, ContinuationToken: token }));
      assert.is(page.KeyCount, 1);
      seen.push(page.Contents![0].Key!);
      token = page.NextContinuationToken;
      assert.is(page.IsTruncated, token !== undefined);
    } while (token);
    assert.equal(seen, ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/bla", "cquux/thud"]);
    const delimited: string[] = [];
    token = undefined;
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: "list", MaxKeys: 1, Delimiter: "/", ContinuationToken: token }));
      delimited.push(...(page.Contents ?? []).map((o) => o.Key!), ...(page.CommonPrefixes ?? []).map((o) => o.Prefix!));
      token = page.NextContinuationToken;
    } while (token);
    assert.equal(delimited, ["asdf", "boo/", "cquux/"]);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: "list", StartAfter: "boo/bar" }));
    assert.equal(after.Contents!.map((o) => o.Key), ["boo/baz/xyzzy", "cquux/bla", "cquux/thud"]);
    const zero = await s3.send(new ListObjectsV2Command({ Bucket: "list", MaxKeys: 0 }));
    assert.is(zero.KeyCount, 0);
    assert.is(zero.IsTruncated, false);
  });

  test("test_bucket_list_marker_none, _maxkeys_one (ListObjects v1, marker), test_bucket_listv2_encoding_basic", async () => {
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: "list", MaxKeys: 2 }));
    assert.equal(v1.Contents!.map((o) => o.Key), ["asdf", "boo/bar"]);
    assert.is(v1.IsTruncated, true);
    const rest = await s3.send(new ListObjectsCommand({ Bucket: "list", Marker: "boo/bar" }));
    assert.equal(rest.Contents!.map((o) => o.Key), ["boo/baz/xyzzy", "cquux/bla", "cquux/thud"]);
    const d = await s3.send(new ListObjectsCommand({ Bucket: "list", Delimiter: "/", MaxKeys: 2 }));
    assert.is(d.NextMarker, "boo/");
    await s3.send(new PutObjectCommand({ Bucket: "list", Key: "foo+1/bar", Body: "x" }));
    await s3.send(new PutObjectCommand({ Bucket: "list", Key: "foo/bar/xyzzy", Body: "x" }));
    await s3.send(new PutObjectCommand({ Bucket: "list", Key: "quux ab/thud", Body: "x" }));
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: "list", Delimiter: "/", EncodingType: "url" }));
    assert.equal(enc.CommonPrefixes!.map((p) => p.Prefix), ["boo/", "cquux/", "foo%2B1/", "foo/", "quux%20ab/"]);
  });

  test("a value stored with curl is an S3 object once its bucket exists, and the other way round (with its Content-Type)", async () => {
    const curl = await fetch(`${c.url}/${B}/from-curl.txt`, { method: "PUT", body: "curl bytes" });
    assert.is(curl.status, 201);
    assert.is((await get("from-curl.txt")).body, "curl bytes");
    await put("from-s3.json", '{"s3":true}', { ContentType: "application/json" });
    const read = await fetch(`${c.url}/${B}/from-s3.json`);
    assert.is(read.status, 200);
    assert.is(read.headers.get("content-type"), "application/json");
    assert.is(await read.text(), '{"s3":true}');
    const again = await fetch(`${c.url}/${B}/from-s3.json`, { method: "PUT", body: "no" });
    assert.is(again.status, 409, "the curl API keeps its 409 for an existing key");
  });

  test.run();
}
