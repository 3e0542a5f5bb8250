/**
 * verify [--repair]: checks every key of the index and every value the volumes hold.
 *   - each replica of a live or unlinked key: present, and its bytes re-hashed on the
 *     volume match the record's size and md5 (bit rot shows);
 *   - a replica found missing or corrupt is taken out of the record at once (when a
 *     good one remains), so GET never redirects to it again; it becomes an orphan;
 *   - --repair copies the value from a good replica to volumes in placement order
 *     until the key has its replicas again;
 *   - records left "writing"/"deleting" by an interrupted operation: --repair finishes
 *     them (the write is undone, the delete completed);
 *   - orphans (replicas owed a delete): --repair deletes those whose volume is up;
 *   - values a volume holds that no record points to (abandoned writes): --repair
 *     deletes them;
 *   - replicas of a key that share a zone while another zone has room (rebalance moves them).
 * --quick reads no bytes: each replica's md5 as its volume's catalog recorded it at write
 * time and the size its bytes have on disk, asked in batches (catalog-checks.ts). Lost
 * and cut-short replicas show, bit rot does not.
 * ok (exit 0) only if nothing is left wrong.
 */
import { ownerOf, storedName } from "../../keys/names.ts";
import { holds, sweepOrphans } from "../janitor.ts";
import type { KeyRecord } from "../index/index.ts";
import type { Master } from "../master.ts";
import type { HeldReplica } from "../volume-client.ts";
import { CatalogChecks } from "./catalog-checks.ts";
import { copyTo, deleteReplica, dropReplicas, purge, repairTargets, switchVolumes } from "../replicas.ts";
import { count, eachKey, problem, type Job } from "./job.ts";
import { crowded } from "./zone-check.ts";

type Health = "good" | "missing" | "corrupt" | "unreachable";

/** How one replica is looked at: re-hashed on its volume, or (--quick) its catalog entry. */
type Look = (volume: string, name: string, size: number) => Promise<HeldReplica>;

/** Looks at one replica and compares what it finds with the record. */
async function checkReplica(m: Master, look: Look, volume: string, key: string, record: KeyRecord): Promise<{ health: Health; detail: string }> {
  if (!m.volumes.isUp(volume)) return { health: "unreachable", detail: `${volume} is down` };
  let got: HeldReplica;
  try {
    got = await look(volume, storedName(key, record), record.size);
  } catch (e) {
    return { health: "unreachable", detail: (e as Error).message };
  }
  if (!got) return { health: "missing", detail: `${key} missing on ${volume}` };
  if (got.size !== record.size || got.md5 !== record.md5) {
    return { health: "corrupt", detail: `${key} on ${volume}: ${got.size} bytes md5 ${got.md5}, expected ${record.size} bytes md5 ${record.md5}` };
  }
  return { health: "good", detail: "" };
}

/** Replicas that share a zone while another zone has room: a problem rebalance fixes. */
function reportCrowded(m: Master, job: Job, key: string, volumes: string[], size: number): void {
  const why = crowded(m, volumes, size);
  if (!why) return;
  count(job, "zone shared");
  problem(job, `${key}: ${why}`);
}

async function verifyKey(m: Master, job: Job, look: Look, key: string): Promise<void> {
  const record = await m.index.get(key);
  if (!record) return;
  if (record.busy) return count(job, "busy"); // another master is writing, deleting or moving it
  if (record.state === "writing" || record.state === "deleting") {
    // Not busy (we hold the key), so nothing is finishing it: an interrupted operation.
    if (!job.repair) return problem(job, `${key}: ${record.state} interrupted (repair finishes it)`);
    const owed = await purge(m, key, record);
    if (!owed) return count(job, "busy");
    count(job, "interrupted finished");
    if (owed.length) count(job, "orphans left", owed.length);
    return;
  }
  const checks = await Promise.all(record.volumes.map((v) => checkReplica(m, look, v, key, record)));
  const good = record.volumes.filter((_, i) => checks[i].health === "good");
  const bad = record.volumes.filter((_, i) => checks[i].health === "missing" || checks[i].health === "corrupt");
  const unknown = record.volumes.filter((_, i) => checks[i].health === "unreachable");
  for (const c of checks) if (c.health !== "good") count(job, c.health);
  for (const c of checks) if (c.health === "unreachable") problem(job, c.detail);
  if (!good.length) {
    if (bad.length) problem(job, `${key}: no good replica left (${checks.map((c) => c.detail).join("; ")})`);
    return;
  }
  const short = record.volumes.length - bad.length < m.replicas;
  if (!bad.length && !(short && job.repair)) {
    if (short) problem(job, `${key}: ${record.volumes.length} of ${m.replicas} replicas`);
    else reportCrowded(m, job, key, record.volumes, record.size);
    return;
  }
  // A change is due: claimed, so no other master writes or deletes the key meanwhile.
  let current = await m.index.claim(key, record);
  if (!current) return count(job, "busy");
  let volumes = record.volumes;
  if (bad.length) {
    // Known bad: out of the record now, so no GET is sent there; the bad copy is an orphan.
    volumes = volumes.filter((v) => !bad.includes(v));
    current = await switchVolumes(m, key, current, volumes, bad);
    if (!current) return count(job, "busy");
    count(job, "marked bad", bad.length);
  }
  if (volumes.length >= m.replicas) {
    if (bad.length) await dropReplicas(m, storedName(key, record), bad);
    return reportCrowded(m, job, key, volumes, record.size);
  }
  if (!job.repair) {
    for (const c of checks) if (c.health === "missing" || c.health === "corrupt") problem(job, c.detail);
    return;
  }
  if (bad.length) current = await m.index.claim(key, current); // the switch above let go of it
  if (!current) return count(job, "busy");
  // Repair: copy from a good replica onto the next volumes in placement order (a bad
  // copy's volume included: its file is replaced).
  const targets = repairTargets(m, key, volumes, unknown);
  const copied: string[] = [];
  for (const t of targets) {
    await copyTo(m, t, key, record, good).then(
      () => copied.push(t),
      (e: Error) => problem(job, `${key}: repair failed: ${e.message}`),
    );
  }
  const after = [...volumes, ...copied];
  // Switched even with nothing copied: that lets go of the claim.
  if (!(await switchVolumes(m, key, current, after, bad.filter((v) => !after.includes(v))))) return count(job, "busy");
  await dropReplicas(m, storedName(key, record), bad.filter((v) => !after.includes(v)));
  count(job, "repaired", copied.length);
  if (after.length < m.replicas) problem(job, `${key}: still ${after.length} of ${m.replicas} replicas`);
}

/** Values on a volume that no record points to there: abandoned writes or lost deletes. */
async function strays(m: Master, job: Job, volume: string): Promise<void> {
  for await (const { key: name } of m.client.list(volume)) {
    if (await holds(m, name, volume)) continue;
    // A write of it (under its key, or under a version name being written) is under way.
    if (m.locks.has(name) || m.locks.has(ownerOf(name))) continue;
    count(job, "abandoned");
    if (!job.repair) {
      problem(job, `${name} on ${volume}: not in the index (abandoned write)`);
      continue;
    }
    await m.locks.holdWhenFree(ownerOf(name), async () => {
      if (await holds(m, name, volume)) return;
      if (await deleteReplica(m, volume, name)) count(job, "strays deleted");
      else problem(job, `${name} on ${volume}: could not delete`);
    });
  }
}

export async function verify(m: Master, job: Job): Promise<void> {
  // Quick checks are batched per volume: many keys in flight fill the batches.
  const batched = job.quick && new CatalogChecks(m.client);
  const look: Look = batched ? (v, name) => batched.check(v, name) : (v, name, size) => m.client.check(v, name, size);
  await eachKey(m.index, job, batched ? 256 : 4, async (key) => {
    const held = await m.locks.holdWhenFree(key, () => verifyKey(m, job, look, key));
    if (!held) count(job, "busy");
  });
  for (const v of m.volumes.all) {
    if (v.up) await strays(m, job, v.name).catch((e) => problem(job, (e as Error).message));
    else problem(job, `${v.name} is down: its values were not checked`);
  }
  // Waiting for a key the janitor's pass holds: skipping it would report an orphan being deleted.
  if (job.repair) await sweepOrphans(m, 5000);
  let orphans = 0;
  for await (const _ of m.index.orphans()) orphans++;
  if (orphans) {
    count(job, "orphans", orphans);
    if (!job.repair) problem(job, `${orphans} replica(s) still owed a delete (repair or the janitor deletes them)`);
    else problem(job, `${orphans} replica(s) still owed a delete: their volumes are down`);
  }
  const p = job.counts.problems ?? 0;
  job.ok = p === 0;
  const c = job.counts;
  const parts = [
    `${job.done} keys`,
    `${c.missing ?? 0} missing`,
    `${c.corrupt ?? 0} corrupt`,
    `${c.unreachable ?? 0} unreachable`,
    ...(job.repair ? [`${c.repaired ?? 0} replicas re-copied`, `${c["strays deleted"] ?? 0} abandoned values deleted`, `${c["interrupted finished"] ?? 0} interrupted operations finished`] : []),
  ];
  job.summary = `verify${job.quick ? " --quick" : ""}${job.repair ? " --repair" : ""}: ${parts.join(", ")}: ${job.ok ? "all well" : `${p} problem(s) left`}`;
}
