/**
 * Client keys on the curl API (issue 26, items 2, 3, 5): keys made by `kvdb keys create
 * --bootstrap` into the index turn authentication on; Bearer tokens and `curl -u` are
 * checked against them and their grants; refusals are 400/401/403, counted by reason.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { runKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { rejects, sdk, text } from "./s3-client.ts";

const run = promisify(execFile);
const dir = tempDir("kvdb-keys");
const db = join(dir, "index");
let c: Cluster;
const keys: Record<string, { id: string; secret: string; token: string }> = {};

async function create(name: string, ...grants: string[]) {
  const r = await runKvdb(["keys", "create", name, "--bootstrap", "--db", db, ...grants.flatMap((g) => ["--grant", g])]);
  assert.is(r.code, 0, r.stderr);
  const field = (f: string) => new RegExp(`^${f}=(\\S+)$`, "m").exec(r.stdout)![1];
  assert.match(r.stdout, new RegExp(`^name=${name}\ngrants=${grants.join(",") || "admin"}\n`, "m"));
  keys[name] = { id: field("id"), secret: field("secret"), token: field("token") };
  assert.is(keys[name].token, `${keys[name].id}.${keys[name].secret}`);
}

const bearer = (name: string) => ({ authorization: `Bearer ${keys[name].token}` });
const send = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${c.url}${path}`, { method, headers, body, redirect: "manual" });

test.before(async () => {
  await create("ops");
  await create("reader", "read:pub/");
  await create("writer", "write:app/");
  c = await startCluster({ dir, db, s3: true });
});

test.after(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("without credentials: 401 with a challenge, for reads and writes alike", async () => {
  const put = await send("PUT", "/app/a", {}, "x");
  assert.is(put.status, 401);
  assert.is(put.headers.get("www-authenticate"), 'Bearer realm="kvdb", Basic realm="kvdb"');
  assert.is(await put.text(), "authentication required: send Authorization: Bearer ID.SECRET (kvdb keys create)\n");
  assert.is((await send("GET", "/app/a")).status, 401);
  assert.is((await send("GET", "/?list")).status, 401);
});

test("an admin token writes and reads; curl -L with the token follows the presigned redirect; curl -u ID:SECRET works too", async () => {
  assert.is((await send("PUT", "/app/a", bearer("ops"), "hello")).status, 201);
  const { stdout } = await run("curl", ["-sS", "-L", "-H", `Authorization: Bearer ${keys.ops.token}`, `${c.url}/app/a`]);
  assert.is(stdout, "hello");
  const basic = await run("curl", ["-sS", "-L", "-u", `${keys.ops.id}:${keys.ops.secret}`, `${c.url}/app/a`]);
  assert.is(basic.stdout, "hello");
});

test("grants by key prefix: a read key reads under its prefix only and never writes; a write key writes and reads under its own", async () => {
  assert.is((await send("PUT", "/pub/p", bearer("ops"), "public")).status, 201);
  const read = await send("GET", "/pub/p", bearer("reader"));
  assert.is(read.status, 302);
  for (const [method, path] of [["PUT", "/pub/q"], ["DELETE", "/pub/p"], ["UNLINK", "/pub/p"], ["GET", "/app/a"]]) {
    const r = await send(method, path, bearer("reader"), method === "PUT" ? "x" : undefined);
    assert.is(r.status, 403, `${method} ${path}`);
  }
  assert.is(await (await send("PUT", "/pub/q", bearer("reader"), "x")).text(), `key ${keys.reader.id} has no write grant on "pub/q"\n`);
  assert.is((await send("PUT", "/app/w", bearer("writer"), "w")).status, 201);
  assert.is((await send("GET", "/app/w", bearer("writer"))).status, 302);
  assert.is((await send("PUT", "/pub/w", bearer("writer"), "w")).status, 403);
  assert.is((await send("POST", "/_kvdb/jobs?kind=verify", bearer("writer"))).status, 403, "jobs need admin");
});

test("bad credentials at the door: malformed 400, unknown key and wrong secret 401, each counted by reason", async () => {
  const metrics = () => fetch(`${c.url}/_kvdb/metrics`, { headers: bearer("ops") });
  const before = await (await metrics()).text();
  const count = (text: string, reason: string) => Number(new RegExp(`^kvdb_auth_failures_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
  assert.is((await send("GET", "/app/a", { authorization: "Bearer no-dot" })).status, 400);
  assert.is((await send("GET", "/app/a", { authorization: "Digest x" })).status, 400);
  const unknown = await send("GET", "/app/a", { authorization: "Bearer KVDB0000000000000000.nope" });
  assert.is(unknown.status, 401);
  assert.is(await unknown.text(), "unknown key or wrong secret: KVDB0000000000000000\n");
  const wrong = await send("GET", "/app/a", { authorization: `Bearer ${keys.ops.id}.${keys.ops.secret}x` });
  assert.is(wrong.status, 401);
  assert.is(await wrong.text(), `unknown key or wrong secret: ${keys.ops.id}\n`, "the same answer: no oracle of which ids exist");
  const after = await (await metrics()).text();
  assert.is(count(after, "malformed") - count(before, "malformed"), 2);
  assert.is(count(after, "unknown-key") - count(before, "unknown-key"), 1);
  assert.is(count(after, "bad-secret") - count(before, "bad-secret"), 1);
});

test("kvdb keys through the master, as an admin key: create, list (no secrets), grant, revoke, delete — effective at once on that master", async () => {
  const keysCmd = (token: string, ...args: string[]) => runKvdb(["keys", ...args, "--master", c.url], { KVDB_TOKEN: token });
  const denied = await keysCmd(keys.writer.token, "list");
  assert.is(denied.code, 1);
  assert.match(denied.stderr, /^kvdb: GET \/_kvdb\/keys: 403 key KVDB\w+ has no admin grant on this endpoint\n$/);
  const made = await keysCmd(keys.ops.token, "create", "late", "--grant", "read:late/");
  assert.is(made.code, 0, made.stderr);
  const late = { id: /^id=(\S+)$/m.exec(made.stdout)![1], token: /^token=(\S+)$/m.exec(made.stdout)![1] };
  const listed = await keysCmd(keys.ops.token, "list");
  assert.is(listed.code, 0, listed.stderr);
  assert.is(listed.stdout.trim().split("\n").length, 4);
  assert.match(listed.stdout, new RegExp(`^${late.id} late read:late/ `, "m"));
  for (const k of Object.values(keys)) assert.not.ok(listed.stdout.includes(k.secret), "no secret listed");
  const lateGet = () => send("GET", "/late/x", { authorization: `Bearer ${late.token}` });
  assert.is((await lateGet()).status, 404, "read grant: allowed, and no such key");
  assert.is((await keysCmd(keys.ops.token, "grant", late.id, "--grant", "write:late/")).stdout, `id=${late.id}\ngrants=read:late/,write:late/\n`);
  assert.is((await send("PUT", "/late/x", { authorization: `Bearer ${late.token}` }, "l")).status, 201);
  assert.is((await keysCmd(keys.ops.token, "revoke", late.id, "--grant", "read:late/", "--grant", "write:late/")).stdout, `id=${late.id}\ngrants=\n`);
  assert.is((await lateGet()).status, 403);
  assert.is((await keysCmd(keys.ops.token, "delete", late.id)).code, 0);
  assert.is((await lateGet()).status, 401);
  const gone = await keysCmd(keys.ops.token, "delete", late.id);
  assert.is(gone.stderr, `kvdb: DELETE /_kvdb/keys/${late.id}: 404 no key ${late.id}\n`);
});

test("S3 takes the stored keys too, with grants by bucket; the configured pair keeps working", async () => {
  const as = (name: string) => sdk(c.s3!, "WHEN_SUPPORTED", { accessKey: keys[name].id, secretKey: keys[name].secret }).client;
  const ops = as("ops");
  await ops.send(new CreateBucketCommand({ Bucket: "pub" }));
  await ops.send(new PutObjectCommand({ Bucket: "pub", Key: "o", Body: "s3 value" }));
  assert.is(await text((await as("reader").send(new GetObjectCommand({ Bucket: "pub", Key: "o" }))).Body), "s3 value");
  await rejects(() => as("reader").send(new PutObjectCommand({ Bucket: "pub", Key: "o2", Body: "x" })), "AccessDenied", 403);
  // ListBuckets: the buckets a key's grants reach (src/s3/keys.ts), as S3 lists the buckets one owns.
  assert.equal((await as("reader").send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name), ["pub"]);
  assert.equal((await as("writer").send(new ListBucketsCommand({}))).Buckets, []);
  await rejects(() => as("writer").send(new GetObjectCommand({ Bucket: "pub", Key: "o" })), "AccessDenied", 403);
  const wrong = sdk(c.s3!, "WHEN_SUPPORTED", { accessKey: keys.ops.id, secretKey: "not-the-secret" }).client;
  await rejects(() => wrong.send(new ListBucketsCommand({})), "SignatureDoesNotMatch", 403);
  assert.ok((await sdk(c.s3!).client.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === "pub"), "the configured pair");
});

test("keys create refuses a bad grant (exit 2)", async () => {
  const r = await runKvdb(["keys", "create", "x", "--bootstrap", "--db", db, "--grant", "delete"]);
  assert.is(r.code, 2);
  assert.is(r.stderr, 'kvdb: grant must be read, write or admin, optionally :PREFIX, or monitor (got "delete")\n');
});

test.run();
