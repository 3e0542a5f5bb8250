/**
 * The S3 API with the command-line clients people use, as installed from Debian
 * (.ci/run installs them): the AWS CLI, boto3 and rclone, against a `kvdb server`
 * process — path-style addressing, any region. (Server-side copies: s3-copy-tools.test.ts.)
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { KvdbServer } from "../harness/kvdb.ts";
import { bytes, md5 } from "./http.ts";
import { awsCli, KEYS, PYTHON, run, startToolServer, type Aws } from "./tools.ts";

const MiB = 1 << 20;
const RCLONE = "/usr/bin/rclone";

let server: KvdbServer;
let endpoint: string;
let dir: string;
let aws: Aws["aws"];
let awsRun: Aws["awsRun"];

test.before(async () => {
  ({ server, endpoint, dir } = await startToolServer("kvdb-s3-tools"));
  ({ aws, awsRun } = awsCli(endpoint, dir));
});

test.after(async () => {
  await server?.stop("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

/** A tree of files: 0 bytes to `largest`, names with spaces and unicode. */
function makeTree(root: string, largest: number): Map<string, string> {
  const files = new Map<string, Buffer>([
    ["empty.txt", Buffer.alloc(0)],
    ["one byte", Buffer.from("x")],
    ["dir with spaces/naïve café.txt", bytes(1000, 21)],
    ["dir with spaces/ünïcödé/日本語.bin", bytes(70_000, 22)],
    ["deep/a/b/c/d.bin", bytes(3 * MiB + 5, 23)],
    ["large.bin", bytes(largest, 24)],
  ]);
  const sums = new Map<string, string>();
  for (const [name, data] of files) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), data);
    sums.set(name, md5(data));
  }
  return sums;
}

/** name → md5 of every file under a directory. */
function treeOf(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(root, p), md5(readFileSync(p)));
    }
  };
  walk(root);
  return out;
}

const sorted = (m: Map<string, string>) => [...m.entries()].sort();

test("aws s3: mb, cp of a 100 MiB file (multipart) and back, ls, sync of a tree and back, rm --recursive, presign", async () => {
  await aws("s3", "mb", "s3://awscli");
  const big = join(dir, "big.bin");
  writeFileSync(big, bytes(100 * MiB, 20));
  await aws("s3", "cp", big, "s3://awscli/big.bin");
  const back = join(dir, "big.back");
  await aws("s3", "cp", "s3://awscli/big.bin", back);
  assert.is(md5(readFileSync(back)), md5(readFileSync(big)));
  const head = JSON.parse(await aws("s3api", "head-object", "--bucket", "awscli", "--key", "big.bin")) as { ETag: string; ContentLength: number };
  assert.is(head.ContentLength, 100 * MiB);
  assert.match(head.ETag, /-\d+"$/, "uploaded in parts");
  rmSync(back);

  const src = join(dir, "tree");
  const sums = makeTree(src, 9 * MiB);
  await aws("s3", "sync", src, "s3://awscli/tree");
  const listing = await aws("s3", "ls", "--recursive", "s3://awscli/tree/");
  for (const name of sums.keys()) assert.ok(listing.includes(`tree/${name}`), `ls shows ${name}:\n${listing}`);
  const top = await aws("s3", "ls", "s3://awscli/tree/");
  assert.match(top, /PRE dir with spaces\//);
  const dst = join(dir, "tree.back");
  await aws("s3", "sync", "s3://awscli/tree", dst);
  assert.equal(sorted(treeOf(dst)), sorted(sums));

  const url = (await aws("s3", "presign", "s3://awscli/tree/one byte", "--expires-in", "60")).trim();
  const got = await fetch(url);
  assert.is(got.status, 200);
  assert.is(await got.text(), "x");

  await aws("s3", "rm", "--recursive", "s3://awscli/tree");
  const left = await awsRun("s3", "ls", "--recursive", "s3://awscli/tree/");
  assert.equal([left.code, left.out], [1, ""], "aws s3 ls exits 1 when it lists nothing");
  await aws("s3", "rm", "s3://awscli/big.bin");
  await aws("s3", "rb", "s3://awscli");
});

test("boto3: put, get with a range, list with a delimiter, delete_objects", async () => {
  const script = `
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name="ap-south-1", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="boto")
for key in ["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/top.txt", "other.txt"]:
    s3.put_object(Bucket="boto", Key=key, Body=("value of " + key).encode(), ContentType="text/plain", Metadata={"k": "v"})
part = s3.get_object(Bucket="boto", Key="photos/top.txt", Range="bytes=0-4")
assert part["Body"].read() == b"value", "range"
assert part["ContentRange"] == "bytes 0-4/23", part["ContentRange"]
head = s3.head_object(Bucket="boto", Key="photos/top.txt")
assert head["ContentType"] == "text/plain" and head["Metadata"] == {"k": "v"}, head
page = s3.list_objects_v2(Bucket="boto", Prefix="photos/", Delimiter="/")
assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["photos/2024/", "photos/2025/"], page
assert [o["Key"] for o in page["Contents"]] == ["photos/top.txt"], page
v1 = s3.list_objects(Bucket="boto", Delimiter="/")
assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["photos/"], v1
gone = s3.delete_objects(Bucket="boto", Delete={"Objects": [{"Key": "photos/2024/a.jpg"}, {"Key": "other.txt"}, {"Key": "never"}]})
assert sorted(d["Key"] for d in gone["Deleted"]) == ["never", "other.txt", "photos/2024/a.jpg"], gone
left = s3.list_objects_v2(Bucket="boto")
assert [o["Key"] for o in left["Contents"]] == ["photos/2024/b.jpg", "photos/2025/c.jpg", "photos/top.txt"], left
try:
    s3.get_object(Bucket="boto", Key="never")
    raise SystemExit("no error")
except s3.exceptions.NoSuchKey:
    pass
print("boto3", boto3.__version__, "ok")
`;
  const r = await run(PYTHON, ["-c", script, endpoint, KEYS.KVDB_S3_ACCESS_KEY, KEYS.KVDB_S3_SECRET_KEY]);
  assert.is(r.code, 0, r.err + r.out);
  assert.match(r.out, /ok/);
});

test("boto3: x-amz-meta-* that is not ASCII (botocore sends and signs UTF-8) is stored, and answered as S3 does (RFC 2047); SigV2 is told to use SigV4", async () => {
  const script = `
import sys, base64, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
def client(**config):
    return boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, **config))
s3 = client(signature_version="s3v4")
s3.create_bucket(Bucket="unicode")
# botocore refuses such metadata itself; s3-tests sets the header as here.
def unicode_header(params, **_):
    params["headers"]["x-amz-meta-city"] = "Zürich €"
s3.meta.events.register("before-call.s3.PutObject", unicode_header)
s3.put_object(Bucket="unicode", Key="k", Body=b"v", ContentDisposition='attachment; filename="naïve.txt"')
head = s3.head_object(Bucket="unicode", Key="k")
expected = "=?UTF-8?B?" + base64.b64encode("Zürich €".encode()).decode() + "?="
assert head["Metadata"] == {"city": expected}, head["Metadata"]
assert head["ContentDisposition"] == "=?UTF-8?B?" + base64.b64encode('attachment; filename="naïve.txt"'.encode()).decode() + "?=", head
try:
    client(signature_version="s3").get_object(Bucket="unicode", Key="k")
    raise SystemExit("SigV2 accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidRequest", e.response
    assert "SigV2 is not supported, sign with SigV4" in e.response["Error"]["Message"], e.response
print("ok")
`;
  const r = await run(PYTHON, ["-c", script, endpoint, KEYS.KVDB_S3_ACCESS_KEY, KEYS.KVDB_S3_SECRET_KEY]);
  assert.is(r.code, 0, r.err + r.out);
  assert.match(r.out, /ok/);
});

test("rclone: copy, sync and check of a tree with files from 0 bytes to 64 MiB, names with spaces and unicode", async () => {
  const config = join(dir, "rclone.conf");
  writeFileSync(
    config,
    `[kvdb]\ntype = s3\nprovider = Other\naccess_key_id = ${KEYS.KVDB_S3_ACCESS_KEY}\nsecret_access_key = ${KEYS.KVDB_S3_SECRET_KEY}\n` +
      `endpoint = ${endpoint}\nregion = eu-north-1\nforce_path_style = true\n`,
  );
  const rclone = async (...args: string[]) => {
    const r = await run(RCLONE, ["--config", config, "--retries", "1", "--low-level-retries", "1", ...args]);
    assert.is(r.code, 0, `rclone ${args.join(" ")}: ${r.err}`);
    return r.out;
  };
  const src = join(dir, "rtree");
  const sums = makeTree(src, 64 * MiB);
  await rclone("mkdir", "kvdb:rclone");
  await rclone("copy", src, "kvdb:rclone/copy");
  await rclone("check", src, "kvdb:rclone/copy");
  // sync: a changed file, a new one, a deleted one
  writeFileSync(join(src, "one byte"), "y");
  writeFileSync(join(src, "new file ✓.txt"), "new");
  rmSync(join(src, "deep/a/b/c/d.bin"));
  await rclone("sync", src, "kvdb:rclone/copy");
  await rclone("check", src, "kvdb:rclone/copy");
  const back = join(dir, "rtree.back");
  await rclone("copy", "kvdb:rclone/copy", back);
  assert.equal(sorted(treeOf(back)), sorted(treeOf(src)));
  assert.is(statSync(join(back, "empty.txt")).size, 0);
  assert.is(sums.size, 6);
});

test.run();
