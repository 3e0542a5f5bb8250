/**
 * SigV4 on the curl API (issue 26, item 3): `curl --aws-sigv4` and presigned URLs made by
 * an AWS SDK authenticate with a client key, checked by S3's own verifier
 * (src/s3/curl-sigv4.ts): grants apply as with a Bearer token; an unknown key and a
 * wrong secret get the one answer; an expired URL is 401; a signed body hash is refused
 * (the curl API checks bodies by Content-MD5).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { rmSync, writeFileSync } from "node:fs";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { runKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";

const run = promisify(execFile);
const dir = tempDir("kvdb-curl-sigv4");
const db = join(dir, "index");
let c: Cluster;
const keys: Record<string, { id: string; secret: string }> = {};

async function create(name: string, grant: string) {
  const r = await runKvdb(["keys", "create", name, "--bootstrap", "--db", db, "--grant", grant]);
  assert.is(r.code, 0, r.stderr);
  keys[name] = { id: /^id=(\S+)$/m.exec(r.stdout)![1], secret: /^secret=(\S+)$/m.exec(r.stdout)![1] };
}

/** curl signing as `name` (or with `secret`), printing the body then the status; non-zero exits are curl's own failures. */
async function curl(name: string, args: string[], secret = keys[name]?.secret ?? "x".repeat(40)): Promise<{ body: string; status: number }> {
  const id = keys[name]?.id ?? name;
  const { stdout } = await run("curl", ["-sS", "-w", "\n%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", `${id}:${secret}`, ...args]);
  const cut = stdout.lastIndexOf("\n");
  return { body: stdout.slice(0, cut), status: Number(stdout.slice(cut + 1)) };
}

const presigner = (name: string) =>
  new S3Client({ endpoint: c.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: keys[name].id, secretAccessKey: keys[name].secret } });

test.before(async () => {
  await create("ops", "admin");
  await create("reader", "read:pub/");
  c = await startCluster({ dir, db });
  writeFileSync(join(dir, "file"), "signed bytes");
});

test.after(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("curl --aws-sigv4 writes (-T, its body unsigned) and reads (-L through the presigned redirect) with a client key", async () => {
  assert.equal(await curl("ops", ["-T", join(dir, "file"), `${c.url}/pub/a`]), { body: "", status: 201 });
  assert.equal(await curl("ops", ["-L", `${c.url}/pub/a`]), { body: "signed bytes", status: 200 });
  assert.equal(await curl("reader", ["-L", `${c.url}/pub/a`]), { body: "signed bytes", status: 200 });
  const put = await curl("ops", ["-X", "PUT", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-d", "small", `${c.url}/pub/b`]);
  assert.is(put.status, 201);
  assert.is((await curl("ops", ["-X", "DELETE", `${c.url}/pub/b`])).status, 204);
});

test("grants apply as with a token; an unknown key and a wrong secret get one answer, 401; a signed body hash is 400", async () => {
  assert.equal(await curl("reader", ["-T", join(dir, "file"), `${c.url}/pub/r`]), { body: `key ${keys.reader.id} has no write grant on "pub/r"\n`, status: 403 });
  assert.equal(await curl("reader", [`${c.url}/app/x`]), { body: `key ${keys.reader.id} has no read grant on "app/x"\n`, status: 403 });
  assert.equal(await curl("ops", [`${c.url}/pub/a`], `${keys.ops.secret}x`), { body: `unknown key or wrong secret: ${keys.ops.id}\n`, status: 401 });
  assert.equal(await curl("KVDB0000000000000000", [`${c.url}/pub/a`]), { body: "unknown key or wrong secret: KVDB0000000000000000\n", status: 401 });
  const hashed = await curl("ops", ["-X", "PUT", "-H", `x-amz-content-sha256: ${"0".repeat(64)}`, "-d", "x", `${c.url}/pub/h`]);
  assert.is(hashed.status, 400);
  assert.match(hashed.body, /^sign a PUT or POST body as UNSIGNED-PAYLOAD/);
});

test("a presigned URL made by an AWS SDK for the master reads; once expired it is 401", async () => {
  const url = await getSignedUrl(presigner("reader"), new GetObjectCommand({ Bucket: "pub", Key: "a" }), { expiresIn: 1 });
  const res = await fetch(url, { redirect: "manual" });
  assert.is(res.status, 302);
  assert.is(await (await fetch(res.headers.get("location")!)).text(), "signed bytes");
  await new Promise((r) => setTimeout(r, 2100)); // past its expiry, by the second X-Amz-Expires counts in
  const expired = await fetch(url, { redirect: "manual" });
  assert.is(expired.status, 401);
  assert.is(await expired.text(), "Request has expired\n");
});

test.run();
