/**
 * --min-replicas (issue 24 part 2): with --replicas 3 --min-replicas 2 on 3 volumes, a
 * volume killed (SIGKILL) while PUTs run costs no failed write; every 201 reads back
 * byte-exact; the replicas the keys are then owed are copied by the janitor once the
 * volume is back, within REPLICATED_WITHIN_MS; verify --repair then finds all well. A
 * volume paused (SIGSTOP) for less than --volume-timeout costs latency, not errors. A
 * direct write (307 to a volume that fans the body out) whose other replica's volume is
 * killed mid-body commits on the two that hold it, the third owed; so do S3's PutObject
 * and CompleteMultipartUpload with a volume down. An index rebuilt from volumes that lost
 * some replicas (kvdb rebuild --replicas 3) records them owed, as such a PUT does.
 * Every server is a real child process.
 */
import { rmSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keyPath } from "../src/keys/keys.ts";
import { runKvdb } from "../harness/kvdb.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { until } from "../harness/until.ts";
import type { StatusFacts } from "../src/master/status/facts.ts";
import { askToWrite, bytes, locate, md5, slowPut } from "./http.ts";
import { sample, scrape } from "./prometheus.ts";
import { s3Bucket, text } from "./s3-client.ts";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";

/** How long after the volume is back every key must have its 3 replicas again (measured: docs/DURABILITY.md). */
const REPLICATED_WITHIN_MS = 30_000;
/** PUTs in the loop, and how many run at once. */
const PUTS = 240;
const CLIENTS = 4;

/** The value of PUT number `i`: small ones go in a volume batch, every fifth is streamed (over 32 KiB). */
const valueOf = (i: number) => bytes(i % 5 === 0 ? 40_000 + i : 100 + i, i + 1);

/**
 * Runs PUTS PUTs of distinct keys under `prefix`, CLIENTS at a time; `at(n)` is called
 * once n PUTs have been answered (the fault is injected from it). Returns the answers.
 */
async function putLoop(c: Cluster, prefix: string, at: (answered: number) => Promise<void> | void) {
  const answers = new Map<string, number>();
  let next = 0;
  const client = async () => {
    while (next < PUTS) {
      const i = next++;
      const key = `${prefix}/k${i}`;
      const res = await fetch(c.url + keyPath(key), { method: "PUT", body: valueOf(i) }).catch((e: Error) => ({ status: 0, text: () => e.message }));
      const text = await res.text();
      answers.set(key, res.status);
      if (res.status !== 201) console.log(`PUT ${key}: ${res.status} ${text}`);
      await at(answers.size);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return answers;
}

/** Every acknowledged key reads back byte-exact through the master, from a replica its record names. */
async function readsBack(c: Cluster, answers: Map<string, number>): Promise<void> {
  for (const [key, status] of answers) {
    if (status !== 201) continue;
    const i = Number(key.slice(key.lastIndexOf("k") + 1));
    const res = await fetch(c.url + keyPath(key));
    assert.is(res.status, 200, `GET ${key}`);
    assert.is(md5(Buffer.from(await res.arrayBuffer())), md5(valueOf(i)), `${key} byte-exact`);
  }
}

/** The keys owed replicas as the metrics, status.json and `kvdb status` count them (refreshed every few seconds: census.ts). */
async function counted(c: Cluster): Promise<{ metric?: number; json: number; text: string }> {
  const metric = sample((await scrape(c.url)).text, "kvdb_under_replicated_keys");
  const facts = (await (await fetch(`${c.url}/_kvdb/status.json`)).json()) as StatusFacts;
  const status = await runKvdb(["status", "--master", c.url]);
  return { metric, json: facts.replication.underReplicated, text: status.stdout };
}

/** How many of `keys` have fewer than 3 replicas in their record. */
async function shortOf(c: Cluster, keys: string[]): Promise<string[]> {
  const short: string[] = [];
  for (const key of keys) if ((await locate(c.url, key)).volumes.length < 3) short.push(key);
  return short;
}

/**
 * The scenario: PUTS PUTs with a volume killed a quarter of the way in, then restarted;
 * `o`: the cluster (one master on LevelDB, or two on PostgreSQL).
 */
async function killedUnderPuts(o: { masters?: number }): Promise<void> {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3, minReplicas: 2, timeoutMs: 3000, ...o });
  try {
    const victim = c.volumes[0];
    let killed = false;
    const answers = await putLoop(c, "/kill", async (n) => {
      if (n < PUTS / 4 || killed) return;
      killed = true;
      assert.is(await victim.child.stop("SIGKILL"), "SIGKILL");
    });
    const failed = [...answers].filter(([, s]) => s !== 201);
    assert.equal(failed, [], "every PUT succeeded with a volume killed");
    assert.is(answers.size, PUTS);
    await readsBack(c, answers);

    // Owed while the volume is down: never a redirect to it.
    const keys = [...answers.keys()];
    const short = await shortOf(c, keys);
    assert.ok(short.length >= PUTS / 2, `keys written while it was down are owed a replica (${short.length})`);
    for (const key of short.slice(0, 20)) {
      const loc = await locate(c.url, key);
      assert.is(loc.status, 302);
      assert.not.ok(loc.location.includes(`//${victim.name}/`), `a read of ${key} sent to the owed replica`);
      assert.not.ok(loc.volumes.includes(victim.name));
    }

    // Counted as owed (the figures are refreshed in the background: census.ts).
    await until("the metric counts the keys owed replicas", async () => (await counted(c)).metric === short.length, 15_000);
    const owedNow = await counted(c);
    assert.is(owedNow.json, short.length);
    assert.match(owedNow.text, new RegExp(`${short.length} keys owed replicas`));
    assert.match(owedNow.text, /3 replicas \(2 acknowledge a write\)/);

    const back = Date.now();
    await victim.restart();
    await until("every key has 3 replicas again", async () => (await shortOf(c, keys)).length === 0, REPLICATED_WITHIN_MS);
    console.log(`  ${short.length} keys owed a replica: all copied ${Date.now() - back} ms after the volume restarted`);
    // The copies are real: the volume that was down serves each owed key's bytes.
    for (const key of short) {
      const i = Number(key.slice(key.lastIndexOf("k") + 1));
      const res = await fetch(`${victim.url}${keyPath(key)}`);
      assert.is(res.status, 200, `${key} on the returned volume`);
      assert.is(md5(Buffer.from(await res.arrayBuffer())), md5(valueOf(i)));
    }
    await until("the metric shows none owed", async () => (await counted(c)).metric === 0, 15_000);
    const verified = await runKvdb(["verify", "--repair", "--master", c.url]);
    assert.is(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /all well/);
    await readsBack(c, answers);
  } finally {
    await c.close();
  }
}

test("a volume killed with SIGKILL under PUTs (--replicas 3 --min-replicas 2): every PUT 201, none lost, 3 replicas again after it is back, verify --repair clean", () =>
  killedUnderPuts({}));

test("the same with two masters on PostgreSQL (the owed replicas kept in its records)", () => killedUnderPuts({ masters: 2 }));

/** How long the volume is paused: less than the cluster's --volume-timeout (5 s). */
const PAUSE_MS = 2500;

test("a volume paused (SIGSTOP) for less than --volume-timeout under PUTs: latency, not errors; 3 replicas again after, verify --repair clean", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3, minReplicas: 2, timeoutMs: 5000 });
  const victim = c.volumes[0];
  try {
    let resumed: Promise<void> | undefined;
    const answers = await putLoop(c, "/pause", (n) => {
      if (n < PUTS / 4 || resumed) return;
      victim.kill("SIGSTOP");
      resumed = new Promise((done) => setTimeout(done, PAUSE_MS)).then(() => victim.kill("SIGCONT"));
    });
    assert.ok(resumed, "the volume was paused");
    await resumed;
    assert.equal([...answers].filter(([, s]) => s !== 201), [], "every PUT succeeded with a volume paused");
    await readsBack(c, answers);
    const keys = [...answers.keys()];
    await until("every key has 3 replicas again", async () => (await shortOf(c, keys)).length === 0, REPLICATED_WITHIN_MS);
    const verified = await runKvdb(["verify", "--repair", "--master", c.url]);
    assert.is(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /all well/);
  } finally {
    victim.kill("SIGCONT");
    await c.close();
  }
});

test("a direct write whose other replica's volume is killed mid-body: 201 on the two that hold it, the third owed and copied once the volume is back", async () => {
  const MiB = 1 << 20;
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3, minReplicas: 2, timeoutMs: 2000 });
  try {
    const key = "/direct/killed-replica";
    const value = Buffer.concat([bytes(MiB, 1), bytes(MiB, 2)]);
    const asked = await askToWrite(c.url, key, value.length);
    assert.is(asked.status, 307, asked.body);
    const url = new URL(asked.location!);
    const first = c.volumes.find((v) => v.port === Number(url.port))!;
    const other = c.volumes.find((v) => v !== first)!;
    const put = slowPut(url.origin, url.pathname + url.search, { "content-length": String(value.length) });
    await put.write(value.subarray(0, MiB));
    await until("every replica's volume receives the body", () => c.volumes.every((v) => v.tmpFiles().length === 1));
    await other.child.stop("SIGKILL");
    const answer = await put.finish(value.subarray(MiB));
    assert.is(answer.status, 201, answer.body);
    const held = String(answer.headers["key-volumes"]).split(",");
    assert.is(held.length, 2);
    assert.not.ok(held.includes(other.name), `Key-Volumes ${held} names the killed volume`);
    const res = await fetch(c.url + keyPath(key));
    assert.is(md5(Buffer.from(await res.arrayBuffer())), md5(value), "reads back byte-exact");
    await other.restart();
    await until("the key has 3 replicas again", async () => (await locate(c.url, key)).volumes.length === 3, REPLICATED_WITHIN_MS);
    // verify re-hashes each replica on its volume, the copy on the returned one too.
    const verified = await runKvdb(["verify", "--repair", "--master", c.url]);
    assert.is(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /all well/);
  } finally {
    await c.close();
  }
});

test("S3 with a volume down: PutObject and CompleteMultipartUpload succeed on two replicas, owed the third until the volume is back", async () => {
  const { c, s3, close } = await s3Bucket("owed", { runtime: "node", volumes: 3, replicas: 3, minReplicas: 2, timeoutMs: 3000 });
  try {
    const victim = c.volumes[2];
    await victim.child.stop("SIGKILL");
    const part = Buffer.alloc(5 << 20, 7);
    await s3.send(new PutObjectCommand({ Bucket: "owed", Key: "small", Body: "while a volume is down" }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: "owed", Key: "parts" }));
    const one = await s3.send(new UploadPartCommand({ Bucket: "owed", Key: "parts", UploadId, PartNumber: 1, Body: part }));
    const two = await s3.send(new UploadPartCommand({ Bucket: "owed", Key: "parts", UploadId, PartNumber: 2, Body: "end" }));
    const Parts = [{ PartNumber: 1, ETag: one.ETag }, { PartNumber: 2, ETag: two.ETag }];
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: "owed", Key: "parts", UploadId, MultipartUpload: { Parts } }));
    assert.is(await text((await s3.send(new GetObjectCommand({ Bucket: "owed", Key: "small" }))).Body), "while a volume is down");
    const whole = await (await s3.send(new GetObjectCommand({ Bucket: "owed", Key: "parts" }))).Body!.transformToByteArray();
    assert.is(md5(Buffer.from(whole)), md5(Buffer.concat([part, Buffer.from("end")])));
    await until("both objects counted as owed", async () => (await counted(c)).metric === 2, 15_000);
    await victim.restart();
    await until("none owed once the volume is back", async () => (await counted(c)).metric === 0, REPLICATED_WITHIN_MS);
    const verified = await runKvdb(["verify", "--repair", "--master", c.url]);
    assert.is(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /all well/);
  } finally {
    await close();
  }
});

/**
 * An index rebuilt from volumes one of which lost a third of the keys' replicas, with the
 * volume down when the master starts, then back; `postgres`: the index in PostgreSQL.
 */
async function rebuiltOwed(o: { postgres?: boolean }): Promise<void> {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3, ...o });
  const KEYS = 30;
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `/rebuilt/k${i}`);
    for (const [i, key] of keys.entries()) assert.is((await fetch(c.url + keyPath(key), { method: "PUT", body: valueOf(i) })).status, 201, `PUT ${key}`);
    await c.master.stop("SIGTERM");
    // The index is lost, and one volume lost a third of the keys' replicas.
    const victim = c.volumes[0];
    const lost = keys.filter((_, i) => i % 3 === 0);
    for (const key of lost) assert.is((await fetch(victim.url + keyPath(key), { method: "DELETE" })).status, 204, `${key} removed from ${victim.name}`);
    // (rebuild replaces what a PostgreSQL index holds itself)
    if (!o.postgres) rmSync(c.db, { recursive: true, force: true });

    const names = c.volumes.map((v) => v.name).join(",");
    const rebuilt = await runKvdb(["rebuild", "--volumes", names, "--db", c.db, "--replicas", "3"]);
    assert.is(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, new RegExp(`rebuild: ${KEYS} keys from ${3 * KEYS - lost.length} replicas on 3 volumes .*, ${lost.length} key\\(s\\) on fewer than 3 volumes owed replicas;`));

    // The volume down while the master starts: the owed replicas can go nowhere yet.
    assert.is(await victim.child.stop("SIGKILL"), "SIGKILL");
    await c.master.restart();
    await until("the metric counts the keys owed replicas", async () => (await counted(c)).metric === lost.length, 15_000);
    const owedNow = await counted(c);
    assert.is(owedNow.json, lost.length);
    assert.match(owedNow.text, new RegExp(`${lost.length} keys owed replicas`));
    for (const key of lost) {
      const loc = await locate(c.url, key);
      assert.is(loc.status, 302, `GET ${key}`);
      assert.not.ok(loc.volumes.includes(victim.name), `${key}'s record names ${victim.name}, which lost it`);
    }

    await victim.restart();
    await until("every key has 3 replicas again", async () => (await shortOf(c, keys)).length === 0, REPLICATED_WITHIN_MS);
    for (const [i, key] of keys.entries()) {
      for (const v of c.volumes) {
        const res = await fetch(v.url + keyPath(key));
        assert.is(res.status, 200, `${key} on ${v.name}`);
        assert.is(md5(Buffer.from(await res.arrayBuffer())), md5(valueOf(i)), `${key} on ${v.name} byte-exact`);
      }
    }
    await until("the metric shows none owed", async () => (await counted(c)).metric === 0, 15_000);
  } finally {
    await c.close();
  }
}

test("kvdb rebuild: a key found on fewer volumes than --replicas is owed the rest, counted, never read there, and copied by the janitor", () => rebuiltOwed({}));

test("the same rebuilt into PostgreSQL (the owed replicas in its records)", () => rebuiltOwed({ postgres: true }));

test.run();
