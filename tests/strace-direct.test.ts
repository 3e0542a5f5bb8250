/**
 * fsync before 201 for direct writes (src/volume/direct-write.ts), from the syscalls of
 * every server: a master and 3 volumes, each under `strace -f`, while 12 PUTs of 1 MiB
 * and a bit (over --direct-threshold), sent with Expect: 100-continue, arrive at once (a 307, then
 * the body to its first volume, which streams it to the other two and asks the master
 * to commit). For every 201 a first volume wrote to a client, its trace must show, before
 * that write: an fsync of its own value file (after the file's last write) and of the
 * directory it was renamed into, a synced catalog record; the 201 of each other replica's
 * volume read back on the socket it connected to that volume; and the 201 of the
 * master's commit read back likewise. And in those processes' own traces: each of those
 * replicas' 201s written after the same syncs there, the commit's 201 after a sync of
 * the index log covering the key's last record. Skipped where strace cannot trace.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { MASTER_STEP, VOLUME_WRITE } from "../src/wire/direct-wire.ts";
import { streamPut } from "../harness/data.ts";
import { tempDir } from "../harness/paths.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { lastBefore, logPutWrites, putsOf, renameSynced, syncedCarrier, uncovered } from "./strace-durability.ts";
import type { FileActivity } from "./strace-files.ts";
import { answers, exchanges, type Answered } from "./strace-http.ts";
import { startTraced, straceUnusable, TRACED, type Traced } from "./strace-run.ts";

const PUTS = 12;
const MiB = 1 << 20;
/**
 * -s for the volumes: enough for request lines and catalog records, not the values'
 * MiBs (a whole trace of them would be ~4x their bytes, as \xNN).
 */
const VOLUME_STRINGS = 4096;
const keys = Array.from({ length: PUTS }, (_, i) => `/strace-direct/k${String(i).padStart(2, "0")}`);

/** The syncs a volume made before `a`, its 201 for the replica `name`: value file, its directory, catalog record. */
function replicaProblems(activity: FileActivity, vdir: string, a: Answered, name: string): string[] {
  const rename = activity.renames.find((r) => r.to.endsWith(`/${blobPath(name)}`) && r.exit < a.answered);
  if (!rename) return [`${a.method} ${a.key}: ${a.status} with no value file renamed to ${blobPath(name)} before it`];
  const last = activity.writes.filter((w) => w.file.path === rename.from).sort((x, y) => x.exit - y.exit).slice(-1);
  const problems: string[] = [];
  if (!syncedCarrier(activity, a, last)) problems.push(uncovered(a, "its value file", last));
  else if (!renameSynced(activity, last[0], a)) problems.push(uncovered(a, "the directory its value file was renamed into", last));
  const catalog = logPutWrites(activity, (p) => p.startsWith(`${vdir}/catalog/`) && p.endsWith(".log"));
  const record = lastBefore(putsOf(catalog, name), a.answered);
  if (record.some((w) => w.cut)) problems.push(`${a.key}: a catalog write was cut by strace's -s ${VOLUME_STRINGS}: raise it`);
  else if (!syncedCarrier(activity, a, record)) problems.push(uncovered(a, "its catalog record", record));
  return problems;
}

const why = straceUnusable();
if (why) console.log(`strace direct-write test skipped: ${why}`);

(why ? test.skip : test)(`direct writes: each of ${PUTS} concurrent ones is answered 201 by its first volume only after its own fsyncs, every other replica's synced 201 and the master's synced commit`, async () => {
  const dir = tempDir("kvdb-strace");
  const vdirs = [0, 1, 2].map((i) => join(dir, `v${i}`));
  const volumes: Traced<VolumeServer>[] = [];
  let master: Traced<MasterServer> | undefined;
  try {
    for (const [i, vdir] of vdirs.entries()) volumes.push(await startTraced((command) => new VolumeServer(vdir, TRACED, command), join(dir, `v${i}.trace`), VOLUME_STRINGS));
    const names = volumes.map((v) => v.server.name);
    master = await startTraced((command) => new MasterServer(join(dir, "master"), () => names, { ...TRACED, replicas: 3 }, command), join(dir, "master.trace"));
    const puts = await Promise.all(keys.map((key, i) => streamPut(`${master!.server.url}${keyPath(key)}`, MiB + 1 + i * 4096, { seed: key, expect: true })));
    assert.equal(puts.map((p) => [p.status, Boolean(p.redirectedTo)]), keys.map(() => [201, true]), "every PUT went direct and got 201");

    // The master: each commit's 201 after a sync of the index log covering the key's last record.
    const mastered = await master.finish();
    const index = logPutWrites(mastered, (p) => p.startsWith(`${join(dir, "master")}/`) && p.endsWith(".log"));
    const problems: string[] = [];
    const commits = new Map<string, Answered>();
    for (const a of answers(mastered).filter((a) => a.method === "POST" && a.key.startsWith(MASTER_STEP) && a.status === 201)) {
      const query = new URL(a.target, "http://x").searchParams;
      if (query.get("step") !== "commit") continue;
      commits.set(query.get("token")!, a);
      const record = lastBefore(putsOf(index, a.key.slice(MASTER_STEP.length)), a.answered);
      if (!syncedCarrier(mastered, a, record)) problems.push(uncovered(a, "the key's index record", record));
    }

    // Each volume: the 201s it wrote as a replica (first or other), after its syncs.
    const activities = await Promise.all(volumes.map((v) => v.finish()));
    const replicas = new Map<string, Set<string>>(); // volume name → names it answered 201 for
    const firsts: { volume: number; a: Answered; name: string }[] = [];
    for (const [i, activity] of activities.entries()) {
      assert.equal(activity.hidden, [], "file I/O through io_uring is invisible to strace");
      replicas.set(names[i], new Set());
      for (const a of answers(activity).filter((a) => a.method === "PUT" && a.status === 201)) {
        const first = a.key.startsWith(VOLUME_WRITE);
        const name = first ? a.key.slice(VOLUME_WRITE.length) : a.key;
        problems.push(...replicaProblems(activity, vdirs[i], a, name));
        if (first) firsts.push({ volume: i, a, name });
        else replicas.get(names[i])!.add(name);
      }
    }
    assert.is(firsts.length, PUTS, "every 201 the clients heard is in a first volume's trace");

    // Each first volume's 201: after every other replica's 201 and the commit's 201 reached it.
    for (const { volume, a, name } of firsts) {
      const terms = new URL(a.target, "http://x").searchParams;
      const heard = exchanges(activities[volume]).filter((x) => x.status === 201 && x.heard < a.answered);
      for (const other of terms.get("replicas")!.split(",")) {
        if (!heard.some((x) => x.peer === other && x.method === "PUT" && decodeURIComponent(x.target.split("?")[0]) === name)) {
          problems.push(`${a.key}: 201 at line ${a.answered + 1} before the 201 of replica ${other} reached it`);
        } else if (!replicas.get(other)?.has(name)) problems.push(`${a.key}: replica ${other} has no synced 201 for ${name} in its own trace`);
      }
      const token = terms.get("token")!;
      const committed = heard.some((x) => x.peer === terms.get("master") && x.method === "POST" && x.target.startsWith(MASTER_STEP) && /[?&]step=commit(&|$)/.test(x.target) && x.target.includes(`token=${token}`));
      if (!committed) problems.push(`${a.key}: 201 at line ${a.answered + 1} before the master's 201 to its commit reached it`);
      else if (!commits.has(token)) problems.push(`${a.key}: the master's trace has no 201 to its commit`);
    }
    assert.ok(!problems.length, `${problems.length} problem(s):\n${problems.slice(0, 8).join("\n")}`);
    const others = [...replicas.values()].reduce((n, s) => n + s.size, 0);
    console.log(`direct writes: ${firsts.length} answers 201 by first volumes, each after the syncs of its value file, directory and catalog record, the 201s of ${others / firsts.length} other replicas (each after the same syncs there) and of the master's commit (after the index sync)`);
  } finally {
    await master?.finish().catch(() => {});
    await Promise.all(volumes.map((v) => v.finish().catch(() => {})));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
