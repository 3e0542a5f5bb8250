/**
 * Server-side copies above the tools' multipart threshold (8 MiB), which they make with
 * UploadPartCopy (src/s3/copy.ts): the AWS CLI's `s3 cp s3://… s3://…` and boto3's
 * managed copy(), as installed from Debian, against a `kvdb server` process.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { KvdbServer } from "../harness/kvdb.ts";
import { bytes, md5 } from "./http.ts";
import { awsCli, KEYS, PYTHON, run, startToolServer, type Aws } from "./tools.ts";

const MiB = 1 << 20;
let server: KvdbServer;
let endpoint: string;
let dir: string;
let aws: Aws["aws"];

test.before(async () => {
  ({ server, endpoint, dir } = await startToolServer("kvdb-s3-copy-tools"));
  ({ aws } = awsCli(endpoint, dir));
});

test.after(async () => {
  await server?.stop("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

test("server-side copies above 8 MiB (UploadPartCopy): aws s3 cp s3:// to s3://, boto3's managed copy()", async () => {
  await aws("s3", "mb", "s3://copies");
  const big = join(dir, "copy-src.bin");
  const data = bytes(21 * MiB + 3, 25);
  writeFileSync(big, data);
  await aws("s3", "cp", big, "s3://copies/big");
  await aws("s3", "cp", "s3://copies/big", "s3://copies/copy");
  const head = JSON.parse(await aws("s3api", "head-object", "--bucket", "copies", "--key", "copy")) as { ETag: string; ContentLength: number };
  assert.is(head.ContentLength, data.length);
  assert.match(head.ETag, /-\d+"$/, "copied in parts");
  const back = join(dir, "copy.back");
  await aws("s3", "cp", "s3://copies/copy", back);
  assert.is(md5(readFileSync(back)), md5(data));
  rmSync(back);
  const script = `
import sys, hashlib, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name="us-west-2", config=Config(s3={"addressing_style": "path"}))
s3.copy({"Bucket": "copies", "Key": "big"}, "copies", "boto-copy", Config=TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20))
head = s3.head_object(Bucket="copies", Key="boto-copy")
assert head["ETag"].endswith('-3"'), head["ETag"]
print(hashlib.md5(s3.get_object(Bucket="copies", Key="boto-copy")["Body"].read()).hexdigest())
`;
  const r = await run(PYTHON, ["-c", script, endpoint, KEYS.KVDB_S3_ACCESS_KEY, KEYS.KVDB_S3_SECRET_KEY]);
  assert.is(r.code, 0, r.err + r.out);
  assert.is(r.out.trim(), md5(data));
  await aws("s3", "rm", "--recursive", "s3://copies");
  await aws("s3", "rb", "s3://copies");
});

test.run();
