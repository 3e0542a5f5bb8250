/**
 * Bad input at the door of both APIs (issue 26, item 5): malformed Authorization
 * headers, expired and replayed signatures, unknown keys and wrong secrets, keys without
 * the grant, oversized headers: each a clear 400/401/403 (S3: its XML error) or 431,
 * counted in kvdb_auth_failures_total{reason} whichever API refused it, logged with the
 * key id and never a secret (the master's log is read here: it runs as a process).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { connect } from "node:net";
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { runKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { rejects, sdk } from "./s3-client.ts";

const dir = tempDir("kvdb-door");
const db = join(dir, "index");
let c: Cluster;
const keys: Record<string, { id: string; secret: string; token: string }> = {};

async function create(name: string, grant: string) {
  const r = await runKvdb(["keys", "create", name, "--bootstrap", "--db", db, "--grant", grant]);
  assert.is(r.code, 0, r.stderr);
  const field = (f: string) => new RegExp(`^${f}=(\\S+)$`, "m").exec(r.stdout)![1];
  keys[name] = { id: field("id"), secret: field("secret"), token: field("token") };
}

const as = (name: string, secret = keys[name].secret) => sdk(c.s3!, "WHEN_SUPPORTED", { accessKey: keys[name].id, secretKey: secret }).client;

/** The first line the server at `url` answers `request` with (over a raw socket: fetch gives up when the server answers before reading it all). */
async function rawStatusLine(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => {}); // the server may close before the request is written whole
  socket.write(request);
  let answer = "";
  for await (const chunk of socket) {
    answer += chunk;
    if (answer.includes("\r\n")) break;
  }
  socket.destroy();
  return answer;
}

/** kvdb_auth_failures_total by reason, read with the admin key. */
async function failures(): Promise<Record<string, number>> {
  const text = await (await fetch(`${c.url}/_kvdb/metrics`, { headers: { authorization: `Bearer ${keys.ops.token}` } })).text();
  return Object.fromEntries([...text.matchAll(/^kvdb_auth_failures_total\{reason="([\w-]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** What `fn` adds to each reason's count. */
async function counted(fn: () => Promise<void>): Promise<Record<string, number>> {
  const before = await failures();
  await fn();
  const after = await failures();
  return Object.fromEntries(Object.entries(after).filter(([r, n]) => n !== (before[r] ?? 0)).map(([r, n]) => [r, n - (before[r] ?? 0)]));
}

test.before(async () => {
  await create("ops", "admin");
  await create("reader", "read:pub/");
  c = await startCluster({ dir, db, s3: true, runtime: "node" });
  await as("ops").send(new PutObjectCommand({ Bucket: "pub", Key: "o", Body: "v" })).catch(() => {});
});

test.after(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("curl API: every malformed Authorization is 400 with one line, counted as malformed", async () => {
  const headers = ["Bearer", "Bearer ", "Bearer a.b.c", "Bearer .secret", "Basic !!!", `Basic ${Buffer.from("no-colon").toString("base64")}`, "Token abc", "AWS4-HMAC-SHA256"];
  const added = await counted(async () => {
    for (const authorization of headers) {
      const res = await fetch(`${c.url}/pub/o`, { headers: { authorization }, redirect: "manual" });
      assert.is(res.status, 400, authorization);
      assert.match(await res.text(), /^malformed Authorization header: .*\n$/, authorization);
    }
  });
  assert.equal(added, { malformed: headers.length });
});

test("S3: unknown key, wrong secret, anonymous, no grant, an expired presigned URL and a request signed 16 minutes ago are each refused in S3's XML, counted by reason", async () => {
  const added = await counted(async () => {
    await rejects(() => sdk(c.s3!, "WHEN_SUPPORTED", { accessKey: "KVDB0000000000000000", secretKey: keys.ops.secret }).client.send(new ListBucketsCommand({})), "InvalidAccessKeyId", 403);
    await rejects(() => as("ops", `${keys.ops.secret}x`).send(new ListBucketsCommand({})), "SignatureDoesNotMatch", 403);
    const anonymous = await fetch(`${c.s3}/pub/o`);
    assert.is(anonymous.status, 403);
    assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
    await rejects(() => as("reader").send(new PutObjectCommand({ Bucket: "pub", Key: "x", Body: "x" })), "AccessDenied", 403);
    const url = await getSignedUrl(as("ops"), new GetObjectCommand({ Bucket: "pub", Key: "o" }), { expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2100)); // past its expiry, by the second X-Amz-Expires counts in
    const expired = await fetch(url);
    assert.is(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    // A request signed 16 minutes ago, sent now (a replay outside S3's 15-minute window).
    const late = new S3Client({ endpoint: c.s3, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, systemClockOffset: -16 * 60_000, credentials: { accessKeyId: keys.ops.id, secretAccessKey: keys.ops.secret } });
    await rejects(() => late.send(new ListBucketsCommand({})), "RequestTimeTooSkewed", 403);
  });
  assert.equal(added, { "unknown-key": 1, "bad-secret": 1, missing: 1, "no-grant": 1, expired: 2 });
});

test("oversized headers: 431 from the curl API and S3 alike, before any check", async () => {
  for (const url of [c.url, c.s3!]) assert.match(await rawStatusLine(url, `GET /pub/o HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`), /^HTTP\/1\.1 431 /, url);
});

test("no secret in the master's log: refusals name the key id only", async () => {
  await fetch(`${c.url}/pub/o`, { headers: { authorization: `Bearer ${keys.reader.id}.${keys.ops.secret}` } });
  await rejects(() => as("reader", keys.ops.secret).send(new ListBucketsCommand({})), "SignatureDoesNotMatch", 403);
  const log = c.master.child.output();
  assert.match(log, `key=${keys.reader.id}`);
  for (const k of Object.values(keys)) assert.not.ok(log.includes(k.secret), `${k.id}'s secret in the log`);
});

test.run();
