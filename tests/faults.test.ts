/**
 * Faults, with every server a real child process: volumes and masters killed with
 * SIGKILL (also in the middle of large uploads) and restarted on the same port and
 * data, and SIGTERM's clean shutdown.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ClassicLevel } from "classic-level";
import { keyPath } from "../src/keys/keys.ts";
import { rank } from "../src/keys/placement.ts";
import { request } from "node:http";
import { connect } from "node:net";
import { fileSized, patternMd5, streamGet, streamPut } from "../harness/data.ts";
import { HOST } from "../harness/kvdb.ts";
import { sample, scrape } from "./prometheus.ts";
import { locate } from "./http.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";
import { volumeHolds } from "../harness/servers.ts";
import { until } from "../harness/until.ts";

const MiB = 1 << 20;

async function put(url: string, body: string): Promise<Response> {
  return fetch(url, { method: "PUT", body });
}

/** GET through the master without following: status, Location, Key-Volumes. */
/** True if a new TCP connection to the port is refused. */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

async function isUp(c: Cluster, name: string): Promise<boolean> {
  return (await c.health()).find((v) => v.name === name)?.up === true;
}

/** Where placement puts `key` (the master weighs volumes as /_kvdb/volumes reports). */
async function placement(c: Cluster, key: string): Promise<string[]> {
  return rank(key, await c.health());
}

/** Reads the master's index directly (the master must be stopped): the record and whether it is pending. */
async function indexEntry(db: string, key: string): Promise<{ record: unknown; pending: unknown }> {
  const level = new ClassicLevel<string, string>(db);
  await level.open();
  try {
    const record = await level.sublevel<string, string>("keys", {}).get(key);
    const pending = await level.sublevel<string, string>("pending", {}).get(key);
    return { record, pending };
  } finally {
    await level.close();
  }
}

test("a volume killed with SIGKILL: marked down, reads go to live replicas, writes avoid it, 503 when no replica is up, back after restart", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2 });
  try {
    const [v0, v1] = c.volumes;
    // Keys until several have a replica on v0 and one lives on exactly v0 and v1 (bounded).
    const values = new Map<string, string>();
    const onV0: string[] = [];
    let onlyV0V1 = "";
    for (let i = 0; i < 200 && (onV0.length < 8 || !onlyV0V1); i++) {
      const key = `/sigkill/k${i}`;
      const value = `value ${i} `.repeat(i + 1);
      const res = await put(`${c.master.url}${key}`, value);
      assert.is(res.status, 201, `PUT ${key}`);
      const kv = res.headers.get("key-volumes")!.split(",");
      assert.is(kv.length, 2);
      values.set(key, value);
      if (kv.includes(v0.name)) onV0.push(key);
      if (kv.includes(v0.name) && kv.includes(v1.name)) onlyV0V1 = key;
    }
    assert.ok(onV0.length >= 8 && onlyV0V1, "found keys with a replica on the volume to kill");

    assert.is(await v0.child.stop("SIGKILL"), "SIGKILL");
    const t0 = Date.now();
    await until("master marks the killed volume down", async () => !(await isUp(c, v0.name)), 3000);
    assert.ok(Date.now() - t0 <= 3000);

    // Every read of a key with a replica on v0 redirects to its live replica and returns the bytes.
    for (const key of onV0) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const loc = await locate(c.master.url, key);
        assert.is(loc.status, 302, `GET ${key}`);
        assert.ok(!loc.location.includes(`//${v0.name}/`), `redirect to the dead volume: ${loc.location}`);
        const res = await fetch(loc.location);
        assert.is(res.status, 200);
        assert.is(await res.text(), values.get(key));
      }
    }

    // Writes while v0 is down: 201, never on v0, even for keys whose placement chose v0.
    let wouldHaveUsedV0 = 0;
    for (let i = 0; i < 12; i++) {
      const key = `/sigkill/while-down-${i}`;
      if ((await placement(c, key)).slice(0, 2).includes(v0.name)) wouldHaveUsedV0++;
      const res = await put(`${c.master.url}${key}`, `down ${i}`);
      assert.is(res.status, 201, `PUT ${key} while a volume is down`);
      const kv = res.headers.get("key-volumes")!.split(",");
      assert.is(kv.length, 2);
      assert.not.ok(kv.includes(v0.name), `Key-Volumes ${kv} includes the dead volume`);
      values.set(key, `down ${i}`);
      const loc = await locate(c.master.url, key);
      assert.is(loc.status, 302);
      assert.equal(loc.volumes, kv, "the record says where the bytes really are");
      assert.is(await (await fetch(loc.location)).text(), `down ${i}`);
    }
    assert.ok(wouldHaveUsedV0 > 0, "some of those keys were placed on the dead volume");

    // Both replicas down: 503.
    assert.is(await v1.child.stop("SIGKILL"), "SIGKILL");
    await until("master marks the second volume down", async () => !(await isUp(c, v1.name)), 3000);
    const gone = await fetch(`${c.master.url}${onlyV0V1}`, { redirect: "manual" });
    await gone.arrayBuffer();
    assert.is(gone.status, 503);
    // With 2 replicas and one volume up, a write cannot be placed: 503, nothing stored.
    const noRoom = await put(`${c.master.url}/sigkill/no-room`, "x");
    assert.is(noRoom.status, 503);
    assert.is((await locate(c.master.url, "/sigkill/no-room")).status, 404);

    // Restarted on the same ports: up again, and they serve what they held.
    await Promise.all([v0.restart(), v1.restart()]);
    await until("both volumes up again", async () => (await c.health()).every((v) => v.up), 5000);
    const back = await locate(c.master.url, onlyV0V1);
    assert.is(back.status, 302);
    for (const v of [v0, v1]) {
      const res = await fetch(`${v.url}${keyPath(onlyV0V1)}`);
      assert.is(res.status, 200);
      assert.is(await res.text(), values.get(onlyV0V1));
    }
    for (const key of onV0) {
      const res = await fetch(`${v0.url}${keyPath(key)}`);
      assert.is(res.status, 200);
      assert.is(await res.text(), values.get(key));
    }
  } finally {
    await c.close();
  }
});

test("a volume killed just before small PUTs (not yet marked down): each PUT still gets 201, on the live volumes", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2 });
  try {
    const dead = c.volumes[0];
    const keys: string[] = [];
    for (let i = 0; keys.length < 8 && i < 400; i++) {
      const key = `/refused/k${i}`;
      if ((await placement(c, key)).slice(0, 2).includes(dead.name)) keys.push(key);
    }
    assert.is(keys.length, 8, "keys placed on the volume to kill");
    assert.is((await put(`${c.master.url}/refused/warm`, "warm")).status, 201); // keep-alive connections to every volume
    assert.is(await dead.child.stop("SIGKILL"), "SIGKILL");
    const t0 = Date.now();
    // Sent before the master's next health check (every second) can mark it down: the
    // batches to it are refused (or break, on a kept-alive connection the master has not
    // yet seen close), and each write starts over on the next volumes.
    const answers = await Promise.all(keys.map((key) => put(`${c.master.url}${key}`, `small ${key}`)));
    const ms = Date.now() - t0;
    for (const [i, res] of answers.entries()) {
      assert.is(res.status, 201, `PUT ${keys[i]}: ${res.status} ${await res.text()}`);
      const kv = res.headers.get("key-volumes")!.split(",");
      assert.is(kv.length, 2);
      assert.not.ok(kv.includes(dead.name), `Key-Volumes ${kv} includes the dead volume`);
      const loc = await locate(c.master.url, keys[i]);
      assert.is(await (await fetch(loc.location)).text(), `small ${keys[i]}`);
    }
    console.log(`8 small PUTs placed on a volume killed ${ms} ms before: all 201 on the live volumes`);
  } finally {
    await c.close();
  }
});

test("a volume killed during a large streamed PUT: 5xx or cut, nothing stored anywhere, a retry succeeds", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2 });
  try {
    const key = "/faults/volume-dies-mid-put";
    // The victim is the first volume placement chooses for the key.
    const first = (await placement(c, key))[0];
    const victim = c.volumes.find((v) => v.name === first)!;
    const others = c.volumes.filter((v) => v !== victim);
    const size = 96 * MiB;
    let killed: Promise<number | string> | null = null;
    const result = await streamPut(`${c.master.url}${key}`, size, {
      chunk: 256 * 1024,
      async pause(sent) {
        // Hold the upload once 8 MiB went out, until the victim is writing its temp file; then kill it.
        if (killed || sent < 8 * MiB) return;
        await until("the victim volume is receiving bytes", () => victim.tmpBytes() > 0, 10_000);
        killed = victim.child.stop("SIGKILL");
        await killed;
      },
    });
    assert.ok(killed, `the volume was killed mid-upload (${result.error?.message})`);
    assert.is(await killed!, "SIGKILL");
    assert.ok(result.sent < size, `the upload was cut short (sent ${result.sent} of ${size})`);
    if (process.env.KVDB_TEST_DEBUG) console.log("volume killed mid-PUT:", result.status, result.body.trim(), result.error?.message);
    if (result.status !== 0) assert.ok(result.status >= 500 && result.status < 600, `status ${result.status}: ${result.body}`);

    // Nothing stored: no key, no blob, no temp file on the surviving volumes.
    assert.is((await locate(c.master.url, key)).status, 404);
    for (const v of others) {
      await until(`temp files gone on ${v.name}`, () => v.tmpFiles().length === 0, 5000);
      assert.not.ok(v.hasBlob(key), `blob left on ${v.name}`);
      const res = await fetch(`${v.url}${keyPath(key)}`);
      await res.arrayBuffer();
      assert.is(res.status, 404);
    }
    assert.not.ok(victim.hasBlob(key), "blob on the killed volume");
    const listed = await (await fetch(`${c.master.url}/faults/?list`)).json();
    assert.equal(listed, { keys: [], next: "" });

    // No index entry: stop the master cleanly and read its index.
    assert.is(await c.master.child.stop("SIGTERM"), 0);
    assert.equal(await indexEntry(c.master.db, key), { record: undefined, pending: undefined });
    await c.master.restart();
    await until("the master sees the victim down", async () => !(await isUp(c, victim.name)), 3000);

    // A retry with the remaining volumes succeeds.
    const retry = await streamPut(`${c.master.url}${key}`, 8 * MiB, { seed: "retry" });
    assert.is(retry.status, 201, retry.body);
    assert.is(retry.headers["content-md5"], retry.md5);
    assert.not.ok(String(retry.headers["key-volumes"]).split(",").includes(victim.name));
    const loc = await locate(c.master.url, key);
    assert.is(loc.status, 302);
    const got = await streamGet(loc.location);
    assert.equal([got.status, got.size, got.md5], [200, 8 * MiB, retry.md5]);
    for (const v of others) assert.ok(v.hasBlob(key), `the retry's replica on ${v.name}`);

    // The victim comes back without the value (its temp file swept at start).
    await victim.restart();
    assert.equal(victim.tmpFiles(), []);
    assert.not.ok(victim.hasBlob(key));
    await until("the victim is up again", () => isUp(c, victim.name), 5000);
  } finally {
    await c.close();
  }
});

test("a volume killed during a GET stream: the client sees a cut (never a short 200), the next GET reads another replica", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2 });
  try {
    const key = "/faults/volume-dies-mid-get";
    const size = 128 * MiB;
    const put = await streamPut(`${c.master.url}${key}`, size);
    assert.is(put.status, 201, put.body);
    const first = await locate(c.master.url, key);
    const victim = c.volumes.find((v) => first.location.startsWith(v.url))!;
    // Read slowly (paused socket) so the stream is surely mid-flight when the volume dies.
    const outcome = await new Promise<string>((resolve) => {
      const req = request(first.location, (res) => {
        let got = 0;
        res.on("data", (d: Buffer) => {
          got += d.length;
          if (got >= 4 * MiB && victim.alive) {
            res.pause();
            void victim.child.stop("SIGKILL").then(() => res.resume());
          }
        });
        res.on("end", () => resolve(got === size ? "complete" : `ended short at ${got}`));
        res.on("error", (e) => resolve(`cut: ${e.message}`));
        res.on("aborted", () => resolve("cut: aborted"));
      });
      req.on("error", (e) => resolve(`cut: ${e.message}`));
      req.end();
    });
    // Content-Length is sent first, so a cut is visible to the client as an error, not a short value.
    assert.ok(outcome === "complete" || outcome.startsWith("cut"), outcome);
    await until("the master sees the victim down", async () => !(await isUp(c, victim.name)), 5000);
    const again = await locate(c.master.url, key);
    assert.is(again.status, 302);
    assert.not.ok(again.location.startsWith(victim.url), "redirected to the dead volume");
    const got = await streamGet(again.location);
    assert.equal([got.status, got.size, got.md5], [200, size, put.md5]);
  } finally {
    await c.close();
  }
});

test("a volume that hangs (SIGSTOP) mid-PUT: the master gives up after --volume-timeout with 503, nothing stored", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2, timeoutMs: 2000 });
  try {
    const key = "/faults/volume-hangs-mid-put";
    const first = (await placement(c, key))[0];
    const hung = c.volumes.find((v) => v.name === first)!;
    let stopped = false;
    const t0 = Date.now();
    const result = await streamPut(`${c.master.url}${key}`, 64 * MiB, {
      chunk: 256 * 1024,
      timeoutMs: 20_000,
      async pause(sent) {
        if (stopped || sent < 4 * MiB) return;
        await until("the volume is receiving bytes", () => hung.tmpBytes() > 0, 10_000);
        hung.child.proc.kill("SIGSTOP");
        stopped = true;
      },
    });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(stopped, "the volume was stopped mid-upload");
    assert.is(result.status, 503, `${result.status} ${result.body} ${result.error?.message ?? ""}`);
    assert.match(result.body, /stalled/);
    assert.ok(seconds < 15, `answered after ${seconds} s`);
    assert.is((await locate(c.master.url, key)).status, 404);
    hung.child.proc.kill("SIGCONT");
    await until("the hung volume answers again", () => isUp(c, hung.name), 5000);
    const retry = await streamPut(`${c.master.url}${key}`, 1 * MiB, { seed: "retry" });
    assert.is(retry.status, 201, retry.body);
    for (const v of c.volumes) await until(`temp files gone on ${v.name}`, () => v.tmpFiles().length === 0, 5000);
  } finally {
    c.volumes.forEach((v) => v.child.proc.kill("SIGCONT"));
    await c.close();
  }
});

test("a volume that hangs (SIGSTOP) under small PUTs and DELETEs: PUTs sent to it and PUTs queued behind its stalled batch start over elsewhere after one --volume-timeout (201), queued DELETEs are owed to it (202), and the janitor deletes what it stores late", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2, timeoutMs: 3000 });
  const hung = c.volumes[0];
  try {
    const keys: string[] = [];
    for (let i = 0; keys.length < 16 && i < 800; i++) {
      const key = `/hangs-small/k${i}`;
      if ((await placement(c, key)).slice(0, 2).includes(hung.name)) keys.push(key);
    }
    assert.is(keys.length, 16, "keys placed on the volume to hang");
    const [sent, queued, stored] = [keys.slice(0, 6), keys.slice(6, 12), keys.slice(12)];
    for (const key of stored) assert.is((await put(`${c.master.url}${key}`, `small ${key}`)).status, 201);
    hung.child.proc.kill("SIGSTOP");
    const t0 = Date.now();
    const timed = (key: string) => put(`${c.master.url}${key}`, `small ${key}`).then(async (res) => ({ key, res, text: await res.text(), ms: Date.now() - t0 }));
    const first = sent.map(timed);
    // Their records exist once their replicas are handed to the volumes' batches; the
    // next PUTs then queue behind the batch the stopped volume will not answer.
    await until("the first PUTs are out to the volumes", async () => sample((await scrape(c.master.url)).text, 'kvdb_keys{state="writing"}') === sent.length, 2000);
    const second = queued.map(timed);
    const deletes = stored.map((key) => fetch(`${c.master.url}${key}`, { method: "DELETE" }).then((res) => ({ key, res, ms: Date.now() - t0 })));
    const answers = await Promise.all([...first, ...second]);
    for (const a of answers) {
      // Sent in the batch the volume never answered, or queued behind it and never
      // sent: either way written again on the other volumes once it stalled.
      assert.is(a.res.status, 201, `PUT ${a.key}: ${a.res.status} ${a.text}`);
      assert.ok(a.ms < 5500, `PUT ${a.key} answered after ${a.ms} ms: one volume timeout and the write again, not a second timeout`);
      assert.not.ok(a.res.headers.get("key-volumes")!.split(",").includes(hung.name));
      assert.is(await (await fetch((await locate(c.master.url, a.key)).location)).text(), `small ${a.key}`);
    }
    assert.ok(answers.some((a) => a.ms >= 3000), "no PUT waited for the stopped volume's timeout");
    for (const d of await Promise.all(deletes)) {
      assert.is(d.res.status, 202, `DELETE ${d.key}: ${d.res.status} ${await d.res.text()}`);
      assert.ok(d.ms < 5500, `DELETE ${d.key} answered after ${d.ms} ms`);
      assert.is((await locate(c.master.url, d.key)).status, 404);
    }
    // The stopped volume stores its stalled batch when it wakes: replicas its master
    // owes a delete (the first write of those keys was undone), which the janitor makes;
    // the deleted keys' replicas go the same way.
    hung.child.proc.kill("SIGCONT");
    await until("the hung volume answers again", () => isUp(c, hung.name), 5000);
    for (const key of [...sent, ...stored]) await until(`${key} deleted from the woken volume`, async () => !(await volumeHolds(hung, key)), 15_000);
    for (const a of answers) assert.is(await (await fetch((await locate(c.master.url, a.key)).location)).text(), `small ${a.key}`);
  } finally {
    hung.child.proc.kill("SIGCONT");
    await c.close();
  }
});

test("the master killed mid-PUT: after restart the key is absent, no blob anywhere, and it can be written again", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3 });
  try {
    const key = "/faults/master-dies-mid-put";
    const size = 64 * MiB;
    let killed: Promise<number | string> | null = null;
    const result = await streamPut(`${c.master.url}${key}`, size, {
      chunk: 256 * 1024,
      async pause(sent) {
        if (killed || sent < 8 * MiB) return;
        await until("every volume is receiving bytes", () => c.volumes.every((v) => v.tmpBytes() > 0), 10_000);
        killed = c.master.child.stop("SIGKILL");
        await killed;
      },
    });
    assert.ok(killed, `the master was killed mid-upload (${result.error?.message})`);
    assert.is(await killed!, "SIGKILL");
    assert.is(result.status, 0, "the connection is cut, no answer");
    assert.ok(result.sent < size);

    // The volumes drop their half-written temp files when the master's uploads break.
    for (const v of c.volumes) await until(`temp files gone on ${v.name}`, () => v.tmpFiles().length === 0, 5000);

    // Restart on the same port and db: recovery runs before the start line.
    const port = c.master.port;
    await c.master.restart();
    assert.is(c.master.port, port);
    assert.match(c.master.child.output(), /cleaned up 1 operation/);
    assert.is((await locate(c.master.url, key)).status, 404);
    const head = await fetch(`${c.master.url}${key}`, { method: "HEAD", redirect: "manual" });
    assert.is(head.status, 404);
    for (const v of c.volumes) {
      assert.not.ok(v.hasBlob(key), `blob on ${v.name}`);
      const res = await fetch(`${v.url}${keyPath(key)}`);
      await res.arrayBuffer();
      assert.is(res.status, 404);
    }

    const again = await streamPut(`${c.master.url}${key}`, 4 * MiB, { seed: "again" });
    assert.is(again.status, 201, again.body);
    assert.is(again.headers["content-md5"], again.md5);
    const loc = await locate(c.master.url, key);
    assert.is(loc.status, 302);
    const got = await streamGet(loc.location);
    assert.equal([got.status, got.size, got.md5], [200, 4 * MiB, patternMd5("again", 4 * MiB)]);
  } finally {
    await c.close();
  }
});

test("DELETE while a replica's volume is down: 202, key gone at once, the janitor removes the orphan when the volume returns", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 2 });
  try {
    const key = "/faults/delete-while-down";
    const res = await put(`${c.master.url}${key}`, fileSized("doomed value")); // a file: the test looks at the disk of a dead volume
    assert.is(res.status, 201);
    const holders = res.headers.get("key-volumes")!.split(",");
    const victim = c.volumes.find((v) => v.name === holders[0])!;
    const other = c.volumes.find((v) => v.name === holders[1])!;

    assert.is(await victim.child.stop("SIGKILL"), "SIGKILL");
    await until("master marks the volume down", async () => !(await isUp(c, victim.name)), 3000);

    const del = await fetch(`${c.master.url}${key}`, { method: "DELETE" });
    assert.is(del.status, 202, await del.text());
    assert.is((await locate(c.master.url, key)).status, 404);
    const listed = await (await fetch(`${c.master.url}/faults/?list`)).json();
    assert.equal(listed.keys, []);
    assert.not.ok(other.hasBlob(key), "the live replica is deleted at once");
    assert.ok(victim.hasBlob(key), "the dead volume's replica is still on its disk (owed)");
    const again = await fetch(`${c.master.url}${key}`, { method: "DELETE" });
    await again.arrayBuffer();
    assert.is(again.status, 404);

    await victim.restart();
    // The orphan is deleted within a few seconds (health check 1 s, janitor sweep 2 s).
    await until(
      "the janitor deleted the orphan replica",
      async () => {
        const r = await fetch(`${victim.url}${keyPath(key)}`);
        await r.arrayBuffer();
        return r.status === 404;
      },
      8000,
    );
    assert.not.ok(victim.hasBlob(key));
  } finally {
    await c.close();
  }
});

test("SIGTERM: master and volume exit 0, the index closes cleanly, and everything is there after a restart", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3 });
  try {
    const keys = Array.from({ length: 5 }, (_, i) => `/sigterm/k${i}`);
    for (const key of keys) assert.is((await put(`${c.master.url}${key}`, `v:${key}`)).status, 201);
    const [v0] = c.volumes;

    assert.is(await c.master.child.stop("SIGTERM"), 0);
    assert.is(await v0.child.stop("SIGTERM"), 0);
    // The index is closed (the LevelDB lock released) and holds every key, none pending.
    for (const key of keys) {
      const e = await indexEntry(c.master.db, key);
      assert.ok(e.record, `record for ${key}`);
      assert.is(e.pending, undefined);
    }

    await v0.restart();
    await c.master.restart();
    await until("all volumes up", async () => (await c.health()).every((v) => v.up), 5000);
    for (const key of keys) {
      const loc = await locate(c.master.url, key);
      assert.is(loc.status, 302);
      assert.is(loc.volumes.length, 3);
      const res = await fetch(`${v0.url}${keyPath(key)}`);
      assert.is(res.status, 200);
      assert.is(await res.text(), `v:${key}`);
    }
  } finally {
    await c.close();
  }
});

test("SIGTERM during an upload lets it finish (201), then the master exits 0", async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3 });
  try {
    const key = "/sigterm/in-flight";
    const size = 16 * MiB;
    let exited: Promise<number | string> | null = null;
    const result = await streamPut(`${c.master.url}${key}`, size, {
      chunk: 256 * 1024,
      async pause(sent) {
        if (exited || sent < 4 * MiB) return;
        await until("the volumes are receiving", () => c.volumes.every((v) => v.tmpBytes() > 0), 10_000);
        exited = c.master.child.stop("SIGTERM");
        // Give the signal a moment to land before the rest of the body goes out (bounded).
        await until("the master stopped accepting connections", () => refuses(c.master.port), 5000);
      },
    });
    assert.ok(exited, "SIGTERM was sent mid-upload");
    assert.is(result.status, 201, result.body || result.error?.message);
    assert.is(result.headers["content-md5"], result.md5);
    // Once the upload is answered nothing holds the master: it exits promptly (not after the client's keep-alive timeout).
    const t0 = Date.now();
    assert.is(await exited!, 0);
    assert.ok(Date.now() - t0 < 2000, `exited ${Date.now() - t0} ms after the last answer`);

    await c.master.restart();
    const loc = await locate(c.master.url, key);
    assert.is(loc.status, 302);
    const got = await streamGet(loc.location);
    assert.equal([got.status, got.size, got.md5], [200, size, result.md5]);
  } finally {
    await c.close();
  }
});

test.run();
