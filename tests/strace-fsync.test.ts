/**
 * fsync before 201, from the syscalls themselves: a volume, a volume behind a master
 * (whose small replicas come in batches: wire/batch-wire.ts), then a master, runs
 * under `strace -f` while ≥ 200 concurrent PUTs hit it, and the trace must show, for
 * every "HTTP/1.1 201" written to a socket (and every 201 inside a batch's answer), an fsync/fdatasync that started after the bytes
 * that make the write durable were written to that same file, and returned before
 * the 201 was written. Volume: the value's bytes (in a value file under tmp/ or
 * blobs/, or inline in a catalog log record), the directory a value file was renamed
 * into (LazyFS cannot check that one), and the key's catalog record. Master: the
 * key's last record in the index log before the 201 (the "live" one). Skipped where
 * strace cannot trace.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../harness/paths.ts";
import { answers, type Answered } from "./strace-http.ts";
import { holdsValue, lastBefore, logPutWrites, putsOf, renameSynced, syncedCarrier, uncovered, valueFileWrites } from "./strace-durability.ts";
import type { FileActivity } from "./strace-files.ts";
import { startTraced, straceUnusable, TRACED, type Traced } from "./strace-run.ts";
import { BATCH_PATH, type BatchOp, type BatchResult } from "../src/wire/batch-wire.ts";
import { INLINE_MAX } from "../src/volume/store.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";

const PUTS = 240;
const keys = (prefix: string) => Array.from({ length: PUTS }, (_, i) => `${prefix}/k${String(i).padStart(4, "0")}`);
/**
 * A value that names its key (so each one is found in the trace by its bytes): small
 * (inline in the volume's catalog) for even keys, past the inline threshold (a file)
 * for odd ones, so both write paths are traced.
 */
function valueOf(key: string): Buffer<ArrayBuffer> {
  const unit = `value of ${key}; `;
  return Buffer.from(unit.repeat(Number(key.at(-1)) % 2 ? Math.ceil((INLINE_MAX + 1) / unit.length) : 3));
}

/** PUTs every key at once; resolves to how many got 201. */
async function putAll(base: string, all: string[]): Promise<number> {
  const statuses = await Promise.all(
    all.map(async (key) => {
      const res = await fetch(`${base}${key}`, { method: "PUT", body: valueOf(key), signal: AbortSignal.timeout(60_000) });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  return statuses.filter((s) => s === 201).length;
}

/**
 * PUTs every key under `prefix` to the traced server at once (all must get 201), stops
 * it, and reads the trace: what it did to its files, and the 201s it wrote to PUTs.
 */
async function putTraced(traced: Traced, prefix: string): Promise<{ activity: FileActivity; acked: Answered[] }> {
  const heard = await putAll(traced.server.url, keys(prefix));
  assert.is(heard, PUTS, "every PUT answered 201");
  const activity = await traced.finish();
  assert.equal(activity.hidden, [], "file I/O through io_uring is invisible to strace");
  const acked = answers(activity).filter((a) => a.method === "PUT" && a.status === 201);
  assert.is(acked.length, heard, "every 201 the clients heard is in the trace");
  return { activity, acked };
}

function report(problems: string[], total: number): void {
  assert.ok(!problems.length, `${problems.length} problem(s) in ${total} answers 201:\n${problems.slice(0, 8).join("\n")}`);
}

const why = straceUnusable();
if (why) console.log(`strace fsync tests skipped: ${why}`);
const run = why ? test.skip : test;

/**
 * The volume's half of the check, for each answer 201 in `acked`: an fsync covered the
 * value's bytes (inline in the catalog log, or its file and the directory it was
 * renamed into) and the key's catalog record before the answer. How many were inline.
 */
function volumeProblems(activity: FileActivity, vdir: string, acked: Answered[]): { problems: string[]; inline: number } {
  const catalog = logPutWrites(activity, (p) => p.startsWith(`${vdir}/catalog/`) && p.endsWith(".log"));
  const isValueFile = (p: string) => p.startsWith(`${vdir}/tmp/`) || p.startsWith(`${vdir}/blobs/`);
  const problems: string[] = [];
  let inline = 0;
  for (const a of acked) {
    const value = valueOf(a.key);
    const inRecord = putsOf(catalog, a.key, (stored) => holdsValue(stored, value));
    const carriers = [...inRecord, ...valueFileWrites(activity, isValueFile, value)];
    const synced = syncedCarrier(activity, a, carriers);
    if (!synced) problems.push(uncovered(a, "the value's bytes", carriers));
    else if (inRecord.includes(synced)) inline++;
    else if (!renameSynced(activity, synced, a)) problems.push(uncovered(a, "the directory its value file was renamed into", [synced]));
    const record = lastBefore(putsOf(catalog, a.key), a.answered);
    if (!syncedCarrier(activity, a, record)) problems.push(uncovered(a, "the key's catalog record", record));
  }
  return { problems, inline };
}

/**
 * The puts a volume answered 201 inside its answers to POST /_kvdb/batch
 * (wire/batch-wire.ts: the head line lists them, the answer's JSON array says how
 * each went), each as if it were a PUT of its own answered by that same write.
 */
function batchedPuts(all: Answered[]): Answered[] {
  return all
    .filter((a) => a.method === "POST" && a.key === BATCH_PATH && a.status === 200)
    .flatMap((a) => {
      const ops = JSON.parse(Buffer.from(a.body.split("\n")[0], "latin1").toString("utf8")) as BatchOp[];
      const results = JSON.parse(a.reply.slice(a.reply.indexOf("\r\n\r\n") + 4)) as BatchResult[];
      assert.is(results.length, ops.length, "one result per operation of a batch");
      return ops.flatMap((op, i) => ("put" in op && results[i].status === 201 ? [{ ...a, method: "PUT", key: op.put, status: 201 }] : []));
    });
}

run(`volume: each of ${PUTS} concurrent PUTs is answered 201 only after an fsync covered its value and its catalog record`, async () => {
  const dir = tempDir("kvdb-strace");
  const vdir = join(dir, "v");
  const traced = await startTraced((command) => new VolumeServer(vdir, TRACED, command), join(dir, "volume.trace"));
  try {
    const { activity, acked } = await putTraced(traced, "/strace-volume");
    const { problems, inline } = volumeProblems(activity, vdir, acked);
    report(problems, acked.length);
    assert.is(inline, acked.length / 2, "the even keys' values inline, the odd keys' in files");
    console.log(`volume: ${acked.length} answers 201, each after a sync of the value (${acked.length - inline} in value files and their renamed-into directories, ${inline} inline in the catalog log) and of the catalog record`);
  } finally {
    await traced.finish().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

run(`volume behind a master: each of ${PUTS} concurrent PUTs' replica is answered 201 (alone, or inside a batch of small writes) only after an fsync covered its value and its catalog record`, async () => {
  const dir = tempDir("kvdb-strace");
  const vdir = join(dir, "v");
  const others = [new VolumeServer(join(dir, "v1"), { runtime: "node" }), new VolumeServer(join(dir, "v2"), { runtime: "node" })];
  let traced: Traced<VolumeServer> | undefined;
  let master: MasterServer | undefined;
  try {
    traced = await startTraced((command) => new VolumeServer(vdir, TRACED, command), join(dir, "volume.trace"));
    await Promise.all(others.map((v) => v.start()));
    const names = [traced.server.name, ...others.map((v) => v.name)];
    master = await new MasterServer(join(dir, "master"), () => names, { runtime: "node", replicas: 3 }).start();
    const heard = await putAll(master.url, keys("/strace-batched"));
    assert.is(heard, PUTS, "every PUT answered 201");
    const activity = await traced.finish();
    assert.equal(activity.hidden, [], "file I/O through io_uring is invisible to strace");
    const all = answers(activity);
    const alone = all.filter((a) => a.method === "PUT" && a.status === 201);
    const batched = batchedPuts(all);
    // Every key has a replica here (3 of 3 volumes): the small ones came in batches, the others alone.
    assert.is(batched.length, PUTS / 2, "the even (small) keys' replicas stored through batches");
    assert.is(alone.length, PUTS / 2, "the odd (larger) keys' replicas stored by PUTs of their own");
    const { problems } = volumeProblems(activity, vdir, [...batched, ...alone]);
    report(problems, PUTS);
    console.log(`volume behind a master: ${batched.length} replicas answered 201 inside batches and ${alone.length} alone, each after a sync of its value and catalog record`);
  } finally {
    await traced?.finish().catch(() => {});
    await master?.stop("SIGKILL");
    await Promise.all(others.map((v) => v.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

run(`master: each of ${PUTS} concurrent PUTs is answered 201 only after an fsync of the index log covered the key's last record`, async () => {
  const dir = tempDir("kvdb-strace");
  const db = join(dir, "master");
  const volumes = Array.from({ length: 3 }, (_, i) => new VolumeServer(join(dir, `v${i}`), { runtime: "node" }));
  let traced;
  try {
    await Promise.all(volumes.map((v) => v.start()));
    traced = await startTraced((command) => new MasterServer(db, () => volumes.map((v) => v.name), { ...TRACED, replicas: 3 }, command), join(dir, "master.trace"));
    const { activity, acked } = await putTraced(traced, "/strace-master");
    const index = logPutWrites(activity, (p) => p.startsWith(`${db}/`) && p.endsWith(".log"));
    const problems: string[] = [];
    for (const a of acked) {
      const record = lastBefore(putsOf(index, a.key), a.answered); // the live one, written last
      if (!syncedCarrier(activity, a, record)) problems.push(uncovered(a, "the key's index record", record));
    }
    report(problems, acked.length);
    console.log(`master: ${acked.length} answers 201, each after a sync of the index log holding the key's last record`);
  } finally {
    await traced?.finish().catch(() => {});
    await Promise.all(volumes.map((v) => v.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
