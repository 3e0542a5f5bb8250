/**
 * The master's memory during one big S3 multipart upload (the 5 GiB of 100 MiB
 * parts by default): 3 volumes and a master with --s3-port as child processes; the AWS
 * SDK sends generated parts (never the whole value in memory) one at a time, completes
 * the upload (the volumes assemble it), and the master's VmRSS is sampled every 100 ms.
 *
 *   npm run bench:s3-rss [-- --size 5GiB --part 100MiB]
 */
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { rmSync } from "node:fs";
import process from "node:process";
import { parseSize } from "../src/cli/size.ts";
import { tempDir } from "../harness/paths.ts";
import { bytes } from "../tests/http.ts";
import { procKiB, sampleRss } from "./rss.ts";
import { startCluster } from "../harness/cluster.ts";
import { S3_KEYS } from "../harness/server-options.ts";
import { benchClusterOptions } from "./runtimes.ts";

const KEYS = { accessKeyId: S3_KEYS.accessKey, secretAccessKey: S3_KEYS.secretKey };
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const size = parseSize(arg("size", "5GiB"))!;
const partSize = parseSize(arg("part", "100MiB"))!;
const mib = (n: number) => (n / 2 ** 20).toFixed(1);

const dir = tempDir("kvdb-s3-rss");
const cluster = await startCluster(benchClusterOptions("node", dir, { s3: true }));
try {
  const s3 = new S3Client({ endpoint: cluster.s3, region: "us-east-1", forcePathStyle: true, credentials: KEYS });
  await s3.send(new CreateBucketCommand({ Bucket: "bench" }));
  const sampler = sampleRss(cluster.master.pid);
  const t0 = performance.now();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "bench", Key: "big" }));
  const parts = [];
  // One part buffer, reused with a different first byte each time: the client stays small too.
  const part = bytes(partSize, 7);
  for (let n = 1, sent = 0; sent < size; n++, sent += partSize) {
    part[0] = n & 0xff;
    const body = part.subarray(0, Math.min(partSize, size - sent));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: "bench", Key: "big", UploadId, PartNumber: n, Body: body }));
    parts.push({ ETag, PartNumber: n });
  }
  const uploaded = performance.now();
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: "bench", Key: "big", UploadId, MultipartUpload: { Parts: parts } }));
  const done = performance.now();
  const rss = sampler.stop();
  const head = await s3.send(new HeadObjectCommand({ Bucket: "bench", Key: "big" }));
  console.log(`object             ${size} bytes (${mib(size)} MiB) in ${parts.length} parts of ${mib(partSize)} MiB, 3 replicas`);
  console.log(`upload, complete   ${((uploaded - t0) / 1000).toFixed(1)} s, ${((done - uploaded) / 1000).toFixed(1)} s (assembled on the volumes)`);
  console.log(`master peak RSS    ${rss.peakMiB.toFixed(1)} MiB (idle ${rss.idleMiB.toFixed(1)}, median ${rss.medianMiB.toFixed(1)}; VmHWM ${(procKiB(cluster.master.pid, "VmHWM") / 1024).toFixed(1)} MiB)`);
  console.log(`stored             ${head.ContentLength} bytes, ETag ${head.ETag}`);
  s3.destroy();
  process.exitCode = head.ContentLength === size ? 0 : 1;
} finally {
  await cluster.close("SIGINT");
  rmSync(dir, { recursive: true, force: true });
}
