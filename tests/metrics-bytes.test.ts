/**
 * Bytes received and sent count every body, and a request lasts until its answer's last
 * byte is written: on a volume run by Node, Deno and the Bun binary (dist/kvdb, built
 * if stale), each alone so that no health check adds to its figures. A chunked upload,
 * a whole read, a Range read, the streamed NDJSON listing, and a download read slowly.
 */
import { request } from "node:http";
import { rmSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ensureBinary } from "../harness/binary.ts";
import { streamGet, streamPut } from "../harness/data.ts";
import type { Runtime } from "../harness/server-options.ts";
import { VolumeServer } from "../harness/servers.ts";
import { tempDir } from "../harness/paths.ts";
import { sample, scrape } from "./prometheus.ts";

const ENV = { DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" };
const N = 3 * 1024 * 1024 + 17; // chunked: no Content-Length anywhere
const BIG = 64 * 1024 * 1024;
const SLOW_SECONDS = 1.5;

const RECEIVED = 'kvdb_http_received_bytes_total{role="volume"}';
const SENT = 'kvdb_http_sent_bytes_total{role="volume"}';
/** A series of the volume's GET 2xx duration histogram ("count", or "bucket" with its bound). */
const gets = (text: string, part: "count" | "bucket", le?: string) =>
  sample(text, `kvdb_http_request_duration_seconds_${part}{role="volume",method="GET",status_class="2xx"${le ? `,le="${le}"` : ""}}`) ?? 0;

/** GETs `url`, reading no faster than `rate` bytes/s; its size and the seconds it took, as the client saw them. */
function slowGet(url: string, rate: number): Promise<{ status: number; size: number; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let size = 0;
      res.on("data", (d: Buffer) => {
        size += d.length;
        const ahead = (size / rate) * 1000 - (performance.now() - t0);
        if (ahead > 0) {
          res.pause();
          setTimeout(() => res.resume(), ahead);
        }
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, size, seconds: (performance.now() - t0) / 1000 }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function meterSuite(name: string, runtime: Runtime, before: () => Promise<void> = async () => {}): void {
  const t = suite(`metered bytes and durations: ${name}`);
  const dir = tempDir(`kvdb-metered-${name}`);
  const v = new VolumeServer(dir, { runtime, env: ENV, readyTimeoutMs: 30_000 });

  t.before(async () => {
    await before();
    await v.start();
  });
  t.after(async () => {
    await v.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  t(`${name}: a chunked PUT of N bytes raises received bytes by exactly N`, async () => {
    const before = await scrape(v.url);
    const put = await streamPut(`${v.url}/chunked`, N, { chunked: true, chunk: 64 * 1024 });
    assert.is(put.status, 201, put.body);
    const after = await scrape(v.url);
    assert.is((sample(after.text, RECEIVED) ?? 0) - (sample(before.text, RECEIVED) ?? 0), N);
  });

  t(`${name}: a GET, a Range GET and the NDJSON listing raise sent bytes by exactly their bodies`, async () => {
    const before = await scrape(v.url);
    const whole = await streamGet(`${v.url}/chunked`);
    assert.equal([whole.status, whole.size], [200, N]);
    const range = await streamGet(`${v.url}/chunked`, { range: "bytes=100-1099" });
    assert.equal([range.status, range.size], [206, 1000]);
    const listing = await fetch(`${v.url}/_kvdb/list`);
    assert.is(listing.status, 200);
    const listed = Buffer.byteLength(await listing.text());
    assert.ok(listed > 0);
    const after = await scrape(v.url);
    // The first scrape's own answer went out in between too.
    assert.is((sample(after.text, SENT) ?? 0) - (sample(before.text, SENT) ?? 0), before.bytes + N + 1000 + listed);
  });

  t(`${name}: a download read slowly over ${SLOW_SECONDS} s lasts that long, and sends exactly its size`, async () => {
    const put = await streamPut(`${v.url}/big`, BIG);
    assert.is(put.status, 201, put.body);
    const before = await scrape(v.url);
    const got = await slowGet(`${v.url}/big`, BIG / SLOW_SECONDS);
    assert.is(got.status, 200);
    assert.is(got.size, BIG);
    assert.ok(got.seconds > 1.4, `read in ${got.seconds} s`); // paced to end at SLOW_SECONDS, give or take a timer's slack
    const after = await scrape(v.url);
    assert.is((sample(after.text, SENT) ?? 0) - (sample(before.text, SENT) ?? 0), before.bytes + BIG);
    // Two GETs ended in between: the first scrape (quick) and the download.
    // The download is observed past 1 s (the kernel's socket buffers let the server end a little before the client).
    assert.is(gets(after.text, "count") - gets(before.text, "count"), 2);
    assert.is(gets(after.text, "bucket", "1") - gets(before.text, "bucket", "1"), 1, "only the scrape within 1 s");
    assert.is(gets(after.text, "bucket", "+Inf") - gets(before.text, "bucket", "+Inf"), 2);
  });

  t.run();
}

meterSuite("node", "node");
meterSuite("deno", "deno");
meterSuite("bun binary", "binary", () => ensureBinary((line) => console.log(`    ${line}`)));
