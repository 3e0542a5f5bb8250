/**
 * CompleteMultipartUpload kept alive (src/s3/keep-alive.ts): the answer is a 200 at
 * once with the XML declaration, spaces while the volumes assemble, then the result;
 * an assembly that fails ends that 200 with an <Error> document, which the AWS SDK
 * reports as an error. The keep-alive interval is 10 ms here (KVDB_S3_KEEPALIVE_MS in
 * production), so assembling 15 MiB on three volumes outlasts it.
 */
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { HOST, runKvdb, spawnKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { keyPath } from "../src/keys/keys.ts";
import { bytes, md5 } from "./http.ts";
import { rejects, sdk, storedNames } from "./s3-client.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { S3_KEYS } from "../harness/server-options.ts";

const B = "assembly";
const PART = 5 << 20;
const PARTS = 3;

let c: Cluster;
let s3: S3Client;

test.before(async () => {
  c = await startCluster({ s3: true, s3KeepAliveMs: 10 });
  s3 = sdk(c.s3!).client;
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after(async () => {
  s3?.destroy();
  await c?.close();
});

/** An upload of PARTS parts of `Key`: its id, the parts for the completion, and the whole value. */
async function uploaded(Key: string, client = s3): Promise<{ UploadId: string; Parts: { ETag: string; PartNumber: number }[]; whole: Buffer }> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: B, Key }));
  const Parts = [];
  const chunks = [];
  for (let n = 1; n <= PARTS; n++) {
    const body = bytes(PART, n);
    chunks.push(body);
    const { ETag } = await client.send(new UploadPartCommand({ Bucket: B, Key, UploadId, PartNumber: n, Body: body }));
    Parts.push({ ETag: ETag!, PartNumber: n });
  }
  return { UploadId: UploadId!, Parts, whole: Buffer.concat(chunks) };
}

const completion = (Parts: { ETag: string; PartNumber: number }[]) =>
  `<CompleteMultipartUpload>${Parts.map((p) => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;

/** POSTs the completion to a presigned URL with a plain HTTP client: the status and each chunk of the body as it arrived. */
async function completeRaw(Key: string, UploadId: string, Parts: { ETag: string; PartNumber: number }[], client = s3): Promise<{ status: number; chunks: string[] }> {
  const url = await getSignedUrl(client, new CompleteMultipartUploadCommand({ Bucket: B, Key, UploadId }), { expiresIn: 60 });
  const res = await fetch(url, { method: "POST", body: completion(Parts) });
  const chunks: string[] = [];
  const dec = new TextDecoder();
  for await (const chunk of res.body!) chunks.push(dec.decode(chunk));
  return { status: res.status, chunks };
}

test("CompleteMultipartUpload through the SDK: the kept-alive 200 reads as the result", async () => {
  const { UploadId, Parts, whole } = await uploaded("sdk/object");
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "sdk/object", UploadId, MultipartUpload: { Parts } }));
  assert.match(done.ETag!, new RegExp(`^"[0-9a-f]{32}-${PARTS}"$`));
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "sdk/object" }));
  assert.is(md5(Buffer.from(await got.Body!.transformToByteArray())), md5(whole));
});

test("CompleteMultipartUpload with a plain HTTP client: the declaration first, spaces while assembling, then the result", async () => {
  const { UploadId, Parts } = await uploaded("raw/object");
  const { status, chunks } = await completeRaw("raw/object", UploadId, Parts);
  assert.is(status, 200);
  const body = chunks.join("");
  assert.match(body, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n +<CompleteMultipartUploadResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/);
  assert.match(body, /<Key>raw\/object<\/Key><ETag>&quot;[0-9a-f]{32}-3&quot;<\/ETag><\/CompleteMultipartUploadResult>$/);
  // The declaration came before the assembly ended, in an earlier chunk than the result.
  assert.ok(chunks.length >= 2, `${chunks.length} chunk(s)`);
  assert.ok(chunks[0].startsWith('<?xml version="1.0" encoding="UTF-8"?>\n') && !chunks[0].includes("<Complete"), JSON.stringify(chunks[0]));
});

test("an assembly that fails: an <Error> in the 200 body, and the SDK reports it", async () => {
  // The parts' replicas are deleted behind the master's back: the volumes cannot assemble them.
  const dropParts = async (UploadId: string) => {
    for (let n = 1; n <= PARTS; n++) {
      const key = `/_kvdb/part/${UploadId}/${String(n).padStart(5, "0")}`;
      const names = await storedNames(c, key);
      for (const [i, v] of c.volumes.entries()) for (const name of names[i]) assert.is((await fetch(`http://${v.name}${keyPath(name)}`, { method: "DELETE" })).status, 204);
    }
  };
  const raw = await uploaded("broken/raw");
  await dropParts(raw.UploadId);
  const { status, chunks } = await completeRaw("broken/raw", raw.UploadId, raw.Parts);
  assert.is(status, 200);
  assert.match(chunks.join(""), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n *<Error><Code>ServiceUnavailable<\/Code><Message>[^<]*no copy of [^<]+<\/Message><Resource>\/assembly\/broken\/raw<\/Resource>/);

  // The SDK names the error by the code in the body (and gives it that code's status).
  const viaSdk = await uploaded("broken/sdk");
  await dropParts(viaSdk.UploadId);
  await rejects(() => s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "broken/sdk", UploadId: viaSdk.UploadId, MultipartUpload: { Parts: viaSdk.Parts } })), "ServiceUnavailable", 503);
  await rejects(() => s3.send(new GetObjectCommand({ Bucket: B, Key: "broken/sdk" })), "NoSuchKey", 404);
});

test("a wrong part is still refused at once with its own status", async () => {
  const { UploadId, Parts } = await uploaded("wrong/part");
  const bad = [{ ...Parts[0], ETag: '"00000000000000000000000000000000"' }, ...Parts.slice(1)];
  await rejects(() => s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: "wrong/part", UploadId, MultipartUpload: { Parts: bad } })), "InvalidPart", 400);
});

test("KVDB_S3_KEEPALIVE_MS, as docs/S3.md documents it, on kvdb server; a bad value is a usage error", async () => {
  const env = { KVDB_S3_ACCESS_KEY: S3_KEYS.accessKey, KVDB_S3_SECRET_KEY: S3_KEYS.secretKey };
  const dir = tempDir("kvdb-keepalive");
  const bad = await runKvdb(["server", join(dir, "never"), "--port", "0", "--host", HOST], { ...env, KVDB_S3_KEEPALIVE_MS: "5" }, 20_000);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /KVDB_S3_KEEPALIVE_MS must be an integer from 10 to 600000/);
  const server = await spawnKvdb(["server", join(dir, "data"), "--port", "0", "--host", HOST], { ...env, KVDB_S3_KEEPALIVE_MS: "10" });
  const client = sdk(`http://${HOST}:${/s3=http:\/\/[^\s:]+:(\d+)/.exec(server.output())![1]}`).client;
  try {
    await client.send(new CreateBucketCommand({ Bucket: B }));
    const { UploadId, Parts } = await uploaded("served/object", client);
    const { status, chunks } = await completeRaw("served/object", UploadId, Parts, client);
    assert.is(status, 200);
    assert.match(chunks.join(""), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n +<CompleteMultipartUploadResult /);
  } finally {
    client.destroy();
    await server.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
