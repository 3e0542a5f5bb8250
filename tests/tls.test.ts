/**
 * TLS under Node (tls-smoke.ts's checks); S3 over TLS with the AWS CLI (--ca-bundle)
 * and boto3 (verify=CA); `kvdb master` and `kvdb volume` processes with their own
 * certificates, the volumes listed https:// (and kvdb verify and bench against them).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startCluster } from "../harness/cluster.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { bytes, md5 } from "./http.ts";
import { issue, makeCa } from "./tls-certs.ts";
import { tlsServer, tlsSmoke, type TlsCluster } from "./tls-smoke.ts";
import { awsCli, KEYS, PYTHON, run } from "./tools.ts";

tlsSmoke("node");

let s3: TlsCluster | undefined;

test("S3 over TLS: the AWS CLI with --ca-bundle copies 20 MiB up (multipart: one replica each, so the volume assembling it pulls the parts it lacks from the others over TLS) and down; boto3 with verify=CA puts and gets", async () => {
  s3 = await tlsServer("node", ["--replicas", "1"], KEYS);
  const endpoint = /s3=(https:\/\/\S+)/.exec(s3.server.output())![1];
  const { aws } = awsCli(endpoint, s3.dir);
  const file = join(s3.dir, "twenty.bin");
  const value = bytes(20 * 1024 * 1024, 11);
  writeFileSync(file, value);
  await aws("--ca-bundle", s3.ca.cert, "s3", "mb", "s3://tls");
  await aws("--ca-bundle", s3.ca.cert, "s3", "cp", file, "s3://tls/twenty.bin");
  const etag = JSON.parse(await aws("--ca-bundle", s3.ca.cert, "s3api", "head-object", "--bucket", "tls", "--key", "twenty.bin")).ETag as string;
  assert.match(etag, /-3"$/, "a multipart upload of three parts");
  await aws("--ca-bundle", s3.ca.cert, "s3", "cp", "s3://tls/twenty.bin", join(s3.dir, "back.bin"));
  const back = await run("md5sum", [join(s3.dir, "back.bin")]);
  assert.is(back.out.split(" ")[0], md5(value));
  const script = `
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name="us-east-1", verify=sys.argv[4], config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
s3.put_object(Bucket="tls", Key="boto.txt", Body=b"over tls")
assert s3.get_object(Bucket="tls", Key="boto.txt")["Body"].read() == b"over tls"
try:
    boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                 region_name="us-east-1", verify=sys.argv[5]).list_buckets()
    raise SystemExit("another CA was trusted")
except Exception as e:
    assert "CERTIFICATE_VERIFY_FAILED" in str(e), e
print("ok")
`;
  const r = await run(PYTHON, ["-c", script, endpoint, KEYS.KVDB_S3_ACCESS_KEY, KEYS.KVDB_S3_SECRET_KEY, s3.ca.cert, s3.otherCa.cert]);
  assert.is(r.code, 0, r.err + r.out);
  assert.match(r.out, /ok/);
});

test("kvdb master and kvdb volume with --tls-cert, their volumes listed https://: a redirect to https, a direct write (the volume replicates to the other and reports to the master over TLS), kvdb verify and bench", async () => {
  const dir = tempDir("kvdb-tls-volumes");
  const ca = makeCa(dir, "ca");
  const pem = issue(dir, ca, "cluster");
  const cluster = await startCluster({ runtime: "node", volumes: 2, replicas: 2, tls: { ...pem, ca: ca.cert } });
  try {
    const master = cluster.master;
    assert.ok(cluster.volumes.every((v) => v.listed.startsWith("https://127.0.0.1:")), cluster.volumes.map((v) => v.listed).join());
    assert.ok(master.url.startsWith("https://"), master.url);
    const curl = (...args: string[]) => run("curl", ["-sS", "--cacert", ca.cert, ...args]);
    writeFileSync(join(dir, "small"), "small value");
    assert.is((await curl("-o", "/dev/null", "-w", "%{http_code}", "-T", join(dir, "small"), `${master.url}/v/small`)).out, "201");
    const where = await curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `${master.url}/v/small`);
    assert.match(where.out, /^302 https:\/\/127\.0\.0\.1:\d+\/v\/small$/);
    assert.is((await curl("-L", `${master.url}/v/small`)).out, "small value");
    const big = bytes(2 * 1024 * 1024, 5);
    writeFileSync(join(dir, "big"), big);
    const direct = await curl("-D", "-", "-o", "/dev/null", "-L", "-T", join(dir, "big"), `${master.url}/v/big`);
    assert.equal([...direct.out.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1])).filter((s) => s !== 100), [307, 201], direct.out);
    assert.match(direct.out, /^key-volumes: 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\r?$/im, "the volumes' names, as the index keeps them");
    const got = await run("sh", ["-c", `curl -sS --cacert '${ca.cert}' -L '${master.url}/v/big' | md5sum`]);
    assert.is(got.out.split(" ")[0], md5(big));
    const verify = await runKvdb(["verify", "--master", master.url, "--tls-ca", ca.cert]);
    assert.is(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout + verify.stderr, /2 keys, 0 missing, 0 corrupt/);
    // kvdb bench over TLS: its writes, redirects and the volumes' reads.
    const bench = await runKvdb(["bench", "--master", master.url, "--tls-ca", ca.cert, "--workload", "redirect,large", "--count", "5", "--large-size", "1MiB", "--concurrency", "2"]);
    assert.is(bench.code, 0, bench.stderr + bench.stdout);
    assert.match(bench.stdout, /^no errors$/m);
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.after(async () => {
  await s3?.server.stop("SIGKILL");
  if (s3) rmSync(s3.dir, { recursive: true, force: true });
});

test.run();
