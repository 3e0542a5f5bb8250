/**
 * GET /_kvdb/metrics on the master and on every volume: Prometheus text format 0.0.4,
 * accepted by `promtool check metrics` (Debian package prometheus, installed by
 * .ci/run), with the figures the requests made.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { quantile, Registry } from "../src/observe/metrics.ts";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { fileSized, streamPut } from "../harness/data.ts";
import { bytes } from "./http.ts";
import { sample, scrape as scrapeWithSize } from "./prometheus.ts";
import { sdk } from "./s3-client.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";

let c: Cluster;

test.before(async () => {
  c = await startCluster({ volumes: 3, replicas: 2 });
  assert.is((await fetch(`${c.url}/m/one`, { method: "PUT", body: "12345" })).status, 201);
  assert.is((await fetch(`${c.url}/m/two`, { method: "PUT", body: "678" })).status, 201);
  assert.is((await fetch(`${c.url}/m/one`, { method: "PUT", body: "again" })).status, 409);
  assert.is((await fetch(`${c.url}/m/gone`, { method: "HEAD" })).status, 404);
  assert.is((await fetch(`${c.url}/m/one`, { redirect: "manual" })).status, 302);
  assert.is((await fetch(`${c.url}/m/two`, { method: "UNLINK" })).status, 204);
});

test.after(() => c.close());

const scrape = async (url: string) => (await scrapeWithSize(url)).text;

/** promtool's verdict: "" if the exposition is valid and follows its naming lint, else what it said. */
function promtool(text: string): string {
  try {
    execFileSync("promtool", ["check", "metrics"], { input: text, stdio: ["pipe", "pipe", "pipe"] });
    return "";
  } catch (e) {
    const err = e as { code?: string; stdout?: Buffer; stderr?: Buffer };
    if (err.code === "ENOENT") return "promtool is not installed (Debian: apt-get install prometheus)";
    return `${err.stdout}${err.stderr}`;
  }
}


test("exposition: label values escaped, histogram buckets cumulative, quantiles interpolated as histogram_quantile does", async () => {
  const r = new Registry();
  r.counter("kvdb_demo_total", "a demo").inc({ zone: 'rack "1"\\a\nb' }, 2);
  const h = r.histogram("kvdb_demo_seconds", "a demo", [0.1, 1]);
  for (const v of [0.05, 0.5, 0.5, 5]) h.observe({}, v);
  const text = await r.exposition();
  assert.is(promtool(text), "");
  assert.ok(text.includes('kvdb_demo_total{zone="rack \\"1\\"\\\\a\\nb"} 2\n'), text);
  assert.ok(text.includes('kvdb_demo_seconds_bucket{le="0.1"} 1\nkvdb_demo_seconds_bucket{le="1"} 3\nkvdb_demo_seconds_bucket{le="+Inf"} 4\n'), text);
  assert.is(quantile(h.buckets, h.total(), 0.5), 0.1 + 0.9 * ((2 - 1) / 2)); // rank 2 of 4: halfway into the second bucket
  assert.is(quantile(h.buckets, h.total(), 0.99), 1); // past the last bound: the last bound
  assert.ok(Number.isNaN(quantile(h.buckets, { counts: [0, 0], sum: 0, count: 0 }, 0.5)));
});

test("the master's metrics pass promtool check metrics", async () => {
  assert.is(promtool(await scrape(c.url)), "");
});

test("every volume's metrics pass promtool check metrics", async () => {
  for (const v of c.volumes) assert.is(promtool(await scrape(v.url)), "", v.name);
});

test("master: requests by method and status class, bytes received, build info, no key in any label", async () => {
  const text = await scrape(c.url);
  assert.is(sample(text, 'kvdb_http_requests_total{role="master",method="PUT",status_class="2xx"}'), 2);
  assert.is(sample(text, 'kvdb_http_requests_total{role="master",method="PUT",status_class="4xx"}'), 1);
  assert.is(sample(text, 'kvdb_http_requests_total{role="master",method="HEAD",status_class="4xx"}'), 1);
  assert.is(sample(text, 'kvdb_http_requests_total{role="master",method="GET",status_class="3xx"}'), 1);
  assert.is(sample(text, 'kvdb_http_request_duration_seconds_count{role="master",method="GET",status_class="3xx"}'), 1);
  assert.is(sample(text, 'kvdb_http_requests_total{role="master",method="UNLINK",status_class="2xx"}'), 1);
  assert.is(sample(text, 'kvdb_http_request_duration_seconds_count{role="master",method="PUT",status_class="2xx"}'), 2);
  assert.is(sample(text, 'kvdb_http_request_duration_seconds_bucket{role="master",method="PUT",status_class="2xx",le="+Inf"}'), 2);
  assert.is(sample(text, 'kvdb_http_received_bytes_total{role="master"}'), 5 + 3 + 5);
  assert.is(sample(text, 'kvdb_http_requests_in_flight{role="master"}'), 1); // this scrape
  assert.is(sample(text, 'kvdb_build_info{version="0.1.0",runtime="node"}'), 1);
  // One synced index batch per change made one after the other: the mark a master puts in
  // a new index (auth/upgrade.ts), two commits, one unlink.
  assert.is(sample(text, "kvdb_index_syncs_total"), 4);
  assert.is(sample(text, "kvdb_index_synced_changes_total"), 4);
  assert.not.match(text, /\/m\//);
});

test("master: keys by state, each volume up with its space, no replica owed a delete", async () => {
  // A health check slower than 1 s on a loaded machine marks a volume down until the next one.
  const views = async () => (await (await fetch(`${c.url}/_kvdb/volumes`)).json()) as { up: boolean; error: string }[];
  await until("every volume up", async () => (await views()).every((v) => v.up));
  const text = await scrape(c.url);
  assert.is(sample(text, 'kvdb_keys{state="live"}'), 1);
  assert.is(sample(text, 'kvdb_keys{state="unlinked"}'), 1);
  assert.is(sample(text, 'kvdb_keys{state="writing"}'), 0);
  assert.is(sample(text, "kvdb_replicas_owed_delete"), 0);
  for (const v of c.volumes) {
    const labels = `{volume="${v.name}",zone="127.0.0.1"}`;
    assert.is(sample(text, `kvdb_volume_up${labels}`), 1, v.name);
    assert.ok(sample(text, `kvdb_volume_total_bytes${labels}`)! > 0, v.name);
    assert.ok(sample(text, `kvdb_volume_free_bytes${labels}`)! > 0, v.name);
  }
});

test("volumes: blobs and bytes held add up to the replicas written; fsyncs counted and timed", async () => {
  let blobs = 0;
  let bytes = 0;
  for (const v of c.volumes) {
    // The keys' small values are inline (catalog syncs only): a file value, written and
    // deleted straight on the volume, makes file and directory fsyncs too.
    for (const method of ["PUT", "DELETE"]) {
      const res = await fetch(`${v.url}/m/file-sized`, { method, body: method === "PUT" ? fileSized("a file") : undefined });
      assert.is(res.status, method === "PUT" ? 201 : 204, `${method} on ${v.name}`);
    }
    const text = await scrape(v.url);
    blobs += sample(text, "kvdb_stored_blobs")!;
    bytes += sample(text, "kvdb_stored_bytes")!;
    assert.ok(sample(text, "kvdb_catalog_syncs_total")! > 0, v.name);
    assert.ok(sample(text, "kvdb_fsyncs_total")! > 0, v.name);
    assert.is(sample(text, "kvdb_fsync_duration_seconds_count"), sample(text, "kvdb_fsyncs_total"));
    assert.ok(sample(text, 'kvdb_http_requests_total{role="volume",method="GET",status_class="2xx"}')! > 0, "health checks");
  }
  assert.is(blobs, 2 * 2); // two keys, two replicas each (an unlinked value stays on its volumes)
  assert.is(bytes, 2 * (5 + 3));
});

test("master: a chunked PUT of N bytes raises received by exactly N on the master and N on each volume given a replica", async () => {
  const n = 2 * 1024 * 1024 + 5;
  const volumeReceived = async () => {
    let sum = 0;
    for (const v of c.volumes) sum += sample(await scrape(v.url), 'kvdb_http_received_bytes_total{role="volume"}') ?? 0;
    return sum;
  };
  const before = sample(await scrape(c.url), 'kvdb_http_received_bytes_total{role="master"}')!;
  const volumesBefore = await volumeReceived();
  const put = await streamPut(`${c.url}/m/chunked`, n, { chunked: true, chunk: 64 * 1024 });
  assert.is(put.status, 201, put.body);
  assert.is(sample(await scrape(c.url), 'kvdb_http_received_bytes_total{role="master"}')! - before, n);
  assert.is((await volumeReceived()) - volumesBefore, 2 * n); // health checks carry no body
});

test("master: the ?list answer raises sent by exactly its body", async () => {
  const before = await scrapeWithSize(c.url);
  const res = await fetch(`${c.url}/m/?list`);
  assert.is(res.status, 200);
  const listed = Buffer.byteLength(await res.text());
  const after = await scrapeWithSize(c.url);
  const sent = 'kvdb_http_sent_bytes_total{role="master"}';
  assert.is(sample(after.text, sent)! - sample(before.text, sent)!, before.bytes + listed); // the first scrape's answer too
});

test("S3: a GetObject (the master streams it from a volume) raises the s3 role's sent bytes by exactly the object's size", async () => {
  const s3c = await startCluster({ volumes: 1, replicas: 1, s3: true });
  try {
    const { client } = sdk(s3c.s3!);
    await client.send(new CreateBucketCommand({ Bucket: "metered" }));
    const body = bytes(300_000, 7);
    await client.send(new PutObjectCommand({ Bucket: "metered", Key: "k", Body: body }));
    const sent = 'kvdb_http_sent_bytes_total{role="s3"}';
    const before = sample(await scrape(s3c.url), sent) ?? 0;
    const got = await client.send(new GetObjectCommand({ Bucket: "metered", Key: "k" }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
    await until("the GetObject counted", async () => (sample(await scrape(s3c.url), sent) ?? 0) > before);
    assert.is(sample(await scrape(s3c.url), sent)! - before, body.length);
  } finally {
    await s3c.close();
  }
});

test("a replica write failure is counted for its volume, and the 503 is logged with its cause", async () => {
  // The volume's temp dir becomes a file: its uploads fail (ENOTDIR) while it stays up.
  const broken = c.volumes[0];
  const tmp = join(broken.dir, "tmp");
  rmSync(tmp, { recursive: true });
  writeFileSync(tmp, "not a dir");
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
  try {
    for (let i = 0; ; i++) {
      const res = await fetch(`${c.url}/m/fail-${i}`, { method: "PUT", body: fileSized("x") }); // a file: through tmp/
      const body = await res.text();
      if (res.status === 201) continue; // placed elsewhere
      assert.is(res.status, 503, body);
      break;
    }
  } finally {
    process.stderr.write = write;
    rmSync(tmp);
    mkdirSync(tmp);
  }
  const text = await scrape(c.url);
  assert.is(sample(text, `kvdb_replica_write_failures_total{volume="${broken.name}"}`), 1);
  const logged = errors.filter((l) => l.startsWith("kvdb master: nothing stored: volume "));
  assert.is(logged.length, 1, errors.join(""));
  assert.match(logged[0], new RegExp(`^kvdb master: nothing stored: volume ${broken.name}: answered 400 upload failed: ENOTDIR.* method=PUT path=/m/fail-\\d+ status=503\n$`));
});

test.run();
