/**
 * The S3 API's signatures and body framings on the wire, with requests built here from
 * the AWS documentation (an implementation of SigV4 of the test's own): aws-chunked
 * bodies signed chunk by chunk, checksum trailers (unsigned and signed), payload
 * hashes, clock skew, anonymous requests, S3's XML errors, NotImplemented.
 */
import { createHash, createHmac } from "node:crypto";
import { once } from "node:events";
import { connect } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32c, crc64nvme } from "../src/s3/crc.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { S3_KEYS } from "../harness/server-options.ts";

let c: Cluster;
const B = "wire";

const sha = (d: string | Buffer) => createHash("sha256").update(d).digest("hex");
const hmac = (k: string | Buffer, d: string) => createHmac("sha256", k).update(d).digest();
const EMPTY = sha("");

interface Signed {
  headers: Record<string, string>;
  signature: string;
  key: Buffer;
  date: string;
  scope: string;
}

/** Signs a request as the AWS documentation says (every x-amz-* and host header signed). */
function sign(method: string, path: string, headers: Record<string, string>, payloadHash: string, now = Date.now(), secret = S3_KEYS.secretKey): Signed {
  const date = new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const scope = `${date.slice(0, 8)}/eu-west-3/s3/aws4_request`;
  const all: Record<string, string> = { ...headers, host: new URL(c.s3!).host, "x-amz-date": date, "x-amz-content-sha256": payloadHash };
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
  const [pathPart, query = ""] = path.split("?");
  const canonicalQuery = query ? query.split("&").map((p) => (p.includes("=") ? p : `${p}=`)).sort().join("&") : "";
  const canonical = [method, pathPart, canonicalQuery, ...names.map((n) => `${n}:${lower[n]}`), "", names.join(";"), payloadHash].join("\n");
  const key = ["eu-west-3", "s3", "aws4_request"].reduce((k, part) => hmac(k, part), hmac(`AWS4${secret}`, date.slice(0, 8)));
  const signature = hmac(key, ["AWS4-HMAC-SHA256", date, scope, sha(canonical)].join("\n")).toString("hex");
  const authorization = `AWS4-HMAC-SHA256 Credential=${S3_KEYS.accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return { headers: { ...all, authorization }, signature, key, date, scope };
}

async function send(method: string, path: string, body: string | Buffer = "", headers: Record<string, string> = {}, payloadHash = sha(body)) {
  const bodyless = method === "GET" || method === "HEAD" || (method === "DELETE" && !body);
  const s = sign(method, path, { ...(bodyless ? {} : { "content-length": String(Buffer.byteLength(body)) }), ...headers }, payloadHash);
  return fetch(c.s3 + path, { method, headers: s.headers, body: bodyless ? undefined : new Uint8Array(Buffer.from(body)) });
}

async function read(object: string): Promise<string> {
  const res = await send("GET", `/${B}/${object}`);
  return res.status === 200 ? res.text() : `${res.status}`;
}

async function errorCode(res: Response): Promise<string> {
  return /<Code>([^<]*)<\/Code>/.exec(await res.text())?.[1] ?? `status ${res.status}, no code`;
}

/** An aws-chunked body: `chunks`, each signed when `s` is given, then the trailer (and its signature when signed). */
function chunked(chunks: Buffer[], s?: Signed, trailer?: [string, string], tamper = -1): Buffer {
  let previous = s?.signature ?? "";
  const parts: Buffer[] = [];
  for (const [i, data] of [...chunks, Buffer.alloc(0)].entries()) {
    let ext = "";
    if (s) {
      previous = hmac(s.key, ["AWS4-HMAC-SHA256-PAYLOAD", s.date, s.scope, previous, EMPTY, sha(data)].join("\n")).toString("hex");
      ext = `;chunk-signature=${i === tamper ? "0".repeat(64) : previous}`;
    }
    parts.push(Buffer.from(`${data.length.toString(16)}${ext}\r\n`), data, Buffer.from(data.length ? "\r\n" : ""));
  }
  if (trailer) {
    const line = `${trailer[0]}:${trailer[1]}`;
    parts.push(Buffer.from(`${line}\r\n`));
    if (s) {
      const sig = hmac(s.key, ["AWS4-HMAC-SHA256-TRAILER", s.date, s.scope, previous, sha(`${line}\n`)].join("\n")).toString("hex");
      parts.push(Buffer.from(`x-amz-trailer-signature:${tamper === 99 ? "1".repeat(64) : sig}\r\n`));
    }
  }
  parts.push(Buffer.from("\r\n"));
  return Buffer.concat(parts);
}

/** PUTs an aws-chunked body of `chunks`. */
async function putChunked(object: string, mode: string, chunks: Buffer[], trailer?: [string, string], tamper = -1): Promise<Response> {
  const decoded = chunks.reduce((n, b) => n + b.length, 0);
  const headers: Record<string, string> = { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(decoded) };
  if (trailer) headers["x-amz-trailer"] = trailer[0];
  const path = `/${B}/${object}`;
  // The body's length goes in the signed headers: sign once to learn the seed, frame, then sign with the real length.
  const probe = chunked(chunks, mode.includes("HMAC") ? sign("PUT", path, { ...headers, "content-length": "0" }, mode) : undefined, trailer, tamper);
  const s = sign("PUT", path, { ...headers, "content-length": String(probe.length) }, mode);
  const body = chunked(chunks, mode.includes("HMAC") ? s : undefined, trailer, tamper);
  return fetch(c.s3 + path, { method: "PUT", headers: s.headers, body: new Uint8Array(body) });
}

test.before(async () => {
  c = await startCluster({ s3: true });
  assert.is((await send("PUT", `/${B}`)).status, 200);
});
test.after(() => c?.close());

const chunks = [Buffer.alloc(65536, "a"), Buffer.alloc(1024, "b"), Buffer.from("tail")];
const whole = Buffer.concat(chunks).toString();

test("test_object_write_with_chunked_transfer_encoding: STREAMING-AWS4-HMAC-SHA256-PAYLOAD, every chunk signature verified, the framing never stored", async () => {
  const res = await putChunked("signed", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunks);
  assert.is(res.status, 200, await res.clone().text());
  assert.is(res.headers.get("etag"), `"${createHash("md5").update(whole).digest("hex")}"`);
  assert.ok((await read("signed")) === whole);
  const bad = await putChunked("signed", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", [Buffer.from("other bytes"), Buffer.from("!")], undefined, 1);
  assert.is(bad.status, 403);
  assert.is(await errorCode(bad), "SignatureDoesNotMatch");
  assert.ok((await read("signed")) === whole, "nothing stored: the old value stands");
});

test("test_object_checksum_crc64nvme and friends: STREAMING-UNSIGNED-PAYLOAD-TRAILER with each checksum; a mismatch is BadDigest and stores nothing", async () => {
  const digest = (f: () => { update(b: Uint8Array): void; digest(): Buffer }) => {
    const h = f();
    for (const ch of chunks) h.update(ch);
    return h.digest().toString("base64");
  };
  const sums: [string, string][] = [
    ["x-amz-checksum-crc32c", digest(crc32c)],
    ["x-amz-checksum-crc64nvme", digest(crc64nvme)],
    ["x-amz-checksum-sha1", createHash("sha1").update(whole).digest("base64")],
    ["x-amz-checksum-sha256", createHash("sha256").update(whole).digest("base64")],
  ];
  for (const [name, value] of sums) {
    const ok = await putChunked(`trailer/${name}`, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", chunks, [name, value]);
    assert.is(ok.status, 200, `${name}: ${await ok.clone().text()}`);
    assert.is(ok.headers.get(name), value, "the checksum is echoed");
    assert.ok((await read(`trailer/${name}`)) === whole, name);
    const bad = await putChunked(`trailer/${name}`, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", [Buffer.from("changed")], [name, value]);
    assert.is(bad.status, 400, name);
    assert.is(await errorCode(bad), "BadDigest");
    assert.ok((await read(`trailer/${name}`)) === whole, `${name}: nothing stored`);
  }
  // The crc64nvme test vector of ceph's test_object_checksum_crc64nvme: 1024 'A's.
  const h = crc64nvme();
  h.update(Buffer.alloc(1024, "A"));
  assert.is(h.digest().toString("base64"), "Qeh8oXvGiSo=");
});

test("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: signed chunks and a signed trailer; a bad trailer signature stores nothing", async () => {
  const crc = crc32c();
  for (const ch of chunks) crc.update(ch);
  const trailer: [string, string] = ["x-amz-checksum-crc32c", crc.digest().toString("base64")];
  const ok = await putChunked("signed-trailer", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", chunks, trailer);
  assert.is(ok.status, 200, await ok.clone().text());
  assert.ok((await read("signed-trailer")) === whole);
  const bad = await putChunked("signed-trailer-bad", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", chunks, trailer, 99);
  assert.is(bad.status, 403);
  assert.is(await errorCode(bad), "SignatureDoesNotMatch");
  assert.is(await read("signed-trailer-bad"), "404");
});

test("a body that does not hash to its signed x-amz-content-sha256 is XAmzContentSHA256Mismatch; Content-MD5 mismatch is BadDigest", async () => {
  const res = await send("PUT", `/${B}/hashed`, "actual body", {}, sha("another body"));
  assert.is(res.status, 400);
  assert.is(await errorCode(res), "XAmzContentSHA256Mismatch");
  assert.is(await read("hashed"), "404");
  const md5 = await send("PUT", `/${B}/hashed`, "actual body", { "content-md5": createHash("md5").update("nope").digest("base64") });
  assert.is(await errorCode(md5), "BadDigest");
  assert.is(await read("hashed"), "404");
});

test("test_object_create_bad_date_before_today: clock skew over 15 minutes is RequestTimeTooSkewed; a wrong secret SignatureDoesNotMatch; an unknown key InvalidAccessKeyId", async () => {
  const skewed = sign("GET", `/${B}`, {}, EMPTY, Date.now() - 16 * 60_000);
  const res = await fetch(`${c.s3}/${B}`, { headers: skewed.headers });
  assert.is(res.status, 403);
  assert.is(await errorCode(res), "RequestTimeTooSkewed");
  const wrong = sign("GET", `/${B}`, {}, EMPTY, Date.now(), "not the secret");
  assert.is(await errorCode(await fetch(`${c.s3}/${B}`, { headers: wrong.headers })), "SignatureDoesNotMatch");
  const unknown = sign("GET", `/${B}`, {}, EMPTY);
  unknown.headers.authorization = unknown.headers.authorization.replace(S3_KEYS.accessKey, "SOMEONEELSE");
  assert.is(await errorCode(await fetch(`${c.s3}/${B}`, { headers: unknown.headers })), "InvalidAccessKeyId");
});

test("test_object_raw_get_x_amz_expires_out_range_zero... and anonymous access: AccessDenied in S3's XML; HEAD errors have no body", async () => {
  const anon = await fetch(`${c.s3}/${B}/anything`);
  assert.is(anon.status, 403);
  assert.match(anon.headers.get("content-type") ?? "", /xml/);
  assert.match(await anon.text(), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message><Resource>\/wire\/anything<\/Resource>/);
  const head = await send("HEAD", `/${B}/missing`);
  assert.is(head.status, 404);
  assert.is(await head.text(), "");
  const missing = await send("GET", `/${B}/missing`);
  assert.is(await errorCode(missing), "NoSuchKey");
});

test("versioning, ACLs, policies, SSE: NotImplemented, cleanly", async () => {
  for (const q of ["acl", "policy", "cors"]) {
    const res = await send("GET", `/${B}?${q}`);
    assert.is(res.status, 501, q);
    assert.is(await errorCode(res), "NotImplemented");
  }
  // Lifecycle rules are kvdb's (s3-lifecycle.test.ts); a body that is no configuration is refused as S3 refuses it.
  const junk = await send("PUT", `/${B}?lifecycle`, "<Lifecycle><Rule>");
  assert.is(junk.status, 400);
  assert.is(await errorCode(junk), "MalformedXML");
  const versioning = await send("PUT", `/${B}?versioning`, "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>");
  assert.is(await errorCode(versioning), "NotImplemented");
  const sse = await send("PUT", `/${B}/sse`, "x", { "x-amz-server-side-encryption": "AES256" });
  assert.is(await errorCode(sse), "NotImplemented");
  const acl = await send("PUT", `/${B}/acl`, "x", { "x-amz-acl": "public-read" });
  assert.is(await errorCode(acl), "NotImplemented");
  assert.is((await send("PUT", `/${B}/acl`, "x", { "x-amz-acl": "private" })).status, 200, "the default ACL is what kvdb does");
  // A version other than null is not silently taken for the object: nothing read, nothing deleted.
  for (const method of ["GET", "DELETE"]) {
    const res = await send(method, `/${B}/acl?versionId=3HL4kqtJlcpXroDTDmJ`);
    assert.is(res.status, 501, method);
    assert.is(await errorCode(res), "NotImplemented");
  }
  assert.is((await send("HEAD", `/${B}/acl?versionId=3HL4kqtJlcpXroDTDmJ`)).status, 501);
  const many = await send("POST", `/${B}?delete`, "<Delete><Object><Key>acl</Key><VersionId>3HL4kqtJlcpXroDTDmJ</VersionId></Object></Delete>");
  assert.match(await many.text(), /<Error><Key>acl<\/Key><Code>NotImplemented<\/Code>/);
  assert.is(await read("acl?versionId=null"), "x", "the null version is the object");
});

/**
 * A PUT with an Expect header over a socket of its own (fetch will not send one): the
 * first bytes the server sends, then the rest. With 100-continue the body is held back
 * until a 100 Continue comes; with any other expectation it is sent at once.
 */
async function withExpect(path: string, body: string, expect = "100-continue", secret = S3_KEYS.secretKey): Promise<{ first: string; rest: string }> {
  const s = sign("PUT", path, { "content-length": String(body.length), expect }, sha(body), Date.now(), secret);
  const { hostname, port } = new URL(c.s3!);
  const sock = connect({ host: hostname, port: Number(port) });
  await once(sock, "connect");
  const head = Object.entries({ ...s.headers, connection: "close" }).map(([k, v]) => `${k}: ${v}`).join("\r\n");
  sock.write(`PUT ${path} HTTP/1.1\r\n${head}\r\n\r\n`);
  if (expect !== "100-continue") sock.write(body);
  const [first] = (await once(sock, "data")) as [Buffer];
  const rest: Buffer[] = [];
  sock.on("data", (d: Buffer) => rest.push(d));
  if (expect === "100-continue" && first.toString().startsWith("HTTP/1.1 100")) sock.write(body);
  await once(sock, "close");
  return { first: first.toString("latin1"), rest: Buffer.concat(rest).toString("latin1") };
}

test("test_100_continue: 100 Continue only once the signature is checked; a refused request's body is never asked for", async () => {
  const bad = await withExpect(`/${B}/continued`, "the body", "100-continue", "not the secret");
  assert.match(bad.first, /^HTTP\/1\.1 403 /);
  assert.match(bad.first, /SignatureDoesNotMatch/);
  const good = await withExpect(`/${B}/continued`, "the body");
  assert.match(good.first, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
  assert.match(good.rest, /^HTTP\/1\.1 200 /);
  assert.is(await read("continued"), "the body");
});

test("test_object_create_bad_expect_mismatch: an Expect other than 100-continue is ignored, as S3 does (Node would answer 417)", async () => {
  const { first } = await withExpect(`/${B}/expected`, "value", "200");
  assert.match(first, /^HTTP\/1\.1 200 /);
  assert.is(await read("expected"), "value");
});

test("Signature Version 2 (header or query) gets InvalidRequest saying to sign with SigV4", async () => {
  for (const [path, headers] of [
    [`/${B}/v2`, { authorization: `AWS ${S3_KEYS.accessKey}:c2lnbmF0dXJl`, date: new Date().toUTCString() }],
    [`/${B}/v2?AWSAccessKeyId=${S3_KEYS.accessKey}&Expires=9999999999&Signature=c2ln`, {}],
  ] as [string, Record<string, string>][]) {
    const res = await fetch(c.s3 + path, { headers });
    assert.is(res.status, 400);
    const body = await res.text();
    assert.match(body, /<Code>InvalidRequest<\/Code>/);
    assert.match(body, /SigV2 is not supported, sign with SigV4/);
  }
});

test("ListObjectVersions and GetBucketVersioning of kvdb's unversioned buckets: one version, null, the latest; PutBucketVersioning NotImplemented", async () => {
  assert.is((await send("PUT", `/${B}/versioned/a`, "aaa")).status, 200);
  const versions = await send("GET", `/${B}?versions&prefix=versioned%2F`);
  assert.is(versions.status, 200);
  const xml = await versions.text();
  assert.match(xml, /<ListVersionsResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><Name>wire<\/Name><Prefix>versioned\/<\/Prefix>/);
  assert.match(xml, /<Version><Key>versioned\/a<\/Key><VersionId>null<\/VersionId><IsLatest>true<\/IsLatest><LastModified>[^<]+<\/LastModified><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><Size>3<\/Size>/);
  const versioning = await send("GET", `/${B}?versioning`);
  assert.is(versioning.status, 200);
  assert.match(await versioning.text(), /<VersioningConfiguration xmlns="[^"]+"><\/VersioningConfiguration>$/);
});

test("test_list_buckets_paginated: ListBuckets with max-buckets pages by ContinuationToken; test_bucket_create_exists: creating one's own bucket again is 200 (us-east-1), 409 elsewhere", async () => {
  for (const b of ["page-a", "page-b", "page-c"]) assert.is((await send("PUT", `/${b}`)).status, 200);
  const names: string[] = [];
  let token = "";
  for (let pages = 0; pages < 10; pages++) {
    const res = await send("GET", `/?max-buckets=2&prefix=page-${token ? `&continuation-token=${token}` : ""}`);
    const xml = await res.text();
    names.push(...[...xml.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]));
    token = /<ContinuationToken>([^<]+)<\/ContinuationToken>/.exec(xml)?.[1] ?? "";
    if (!token) break;
  }
  assert.equal(names, ["page-a", "page-b", "page-c"]);
  assert.is((await send("PUT", "/page-a")).status, 200, "again, in us-east-1");
  const config = "<CreateBucketConfiguration><LocationConstraint>eu-west-3</LocationConstraint></CreateBucketConfiguration>";
  assert.is((await send("PUT", "/page-eu", config)).status, 200);
  assert.is(await errorCode(await send("PUT", "/page-eu", config)), "BucketAlreadyOwnedByYou");
});

test("test_bucket_list_prefix_unreadable: with encoding-type=url, ListObjects (v1) answers its Prefix as given, v2 url-encoded (as S3, and as botocore decodes them)", async () => {
  const v1 = await (await send("GET", `/${B}?encoding-type=url&prefix=%0A`)).text();
  assert.match(v1, /<Prefix>\n<\/Prefix>/);
  const v2 = await (await send("GET", `/${B}?encoding-type=url&list-type=2&prefix=%0A`)).text();
  assert.match(v2, /<Prefix>%0A<\/Prefix>/);
});

test("a path that is not percent-encoded UTF-8 (the bytes test_object_read_unreadable sent under Python 2) is 400 InvalidURI, S3's answer", async () => {
  for (const path of [`/${B}/%ae%8a-`, `/${B}/%zz`]) {
    const res = await send("GET", path);
    assert.is(res.status, 400, path);
    assert.match(await res.text(), /<Code>InvalidURI<\/Code><Message>Couldn&apos;t parse the specified URI.<\/Message>/);
  }
});

test("kvdb master --s3-port without credentials is a usage error (exit 2): no anonymous access", async () => {
  const r = await runKvdb(["master", "--volumes", "127.0.0.1:1", "--db", "/nonexistent/kvdb-index", "--s3-port", "0"], {}, 20_000);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--s3-access-key/);
  const half = await runKvdb(["master", "--volumes", "127.0.0.1:1", "--db", "/nonexistent/kvdb-index", "--s3-port", "0", "--s3-access-key", "AK"], {}, 20_000);
  assert.is(half.code, 2);
});

test.run();
