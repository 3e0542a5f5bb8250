/**
 * What must hold once a crashed cluster is running again, from a burst's ledger:
 * every acknowledged PUT reads back byte-exact through the master (following its
 * 302, on every replica), every acknowledged DELETE (204, or 202) stays 404, everything else is absent
 * or exact, and `kvdb verify --repair` then `kvdb verify` end clean.
 */
import * as assert from "uvu/assert";
import { runKvdb } from "../harness/kvdb.ts";
import { locate } from "./http.ts";
import type { Ledger } from "./burst.ts";
import { streamGet } from "../harness/data.ts";

interface Survival {
  /** One line per key that broke its promise. */
  problems: string[];
  /** Acknowledged PUTs read back exact; acknowledged DELETEs found 404. */
  kept: number;
  stayedDeleted: number;
  /** Of the keys neither acknowledged way: found exact, found absent. */
  unackedPresent: number;
  unackedAbsent: number;
}

/**
 * What a GET through the master finds for `key`: "absent", "exact" (on every replica
 * its 302 names in Key-Volumes: the master redirects to one at random, and a replica
 * one volume lost must not hide behind the others), or what is wrong. Unsigned URLs
 * (no --secret): the 302's path reads the value on any of its volumes.
 */
async function find(master: string, key: string, expected: { size: number; md5: string }): Promise<string> {
  const loc = await locate(master, key);
  if (loc.status === 404) return "absent";
  if (loc.status !== 302) return `GET answered ${loc.status}`;
  for (const volume of loc.volumes) {
    const url = new URL(loc.location);
    url.host = new URL(volume.includes("://") ? volume : `${url.protocol}//${volume}`).host; // a volume may be named with its scheme (TLS)
    const got = await streamGet(url.href);
    if (got.status !== 200 || got.size !== expected.size || got.md5 !== expected.md5) {
      return `read ${got.status} on ${volume}, ${got.size} bytes md5 ${got.md5}, expected ${expected.size} bytes md5 ${expected.md5}`;
    }
  }
  return "exact";
}

/** Checks every key the burst sent, a few at a time. */
async function checkSurvival(master: string, ledger: Ledger): Promise<Survival> {
  const out: Survival = { problems: [], kept: 0, stayedDeleted: 0, unackedPresent: 0, unackedAbsent: 0 };
  const keys = [...ledger.sent.keys()];
  const check = async (key: string) => {
    const found = await find(master, key, ledger.sent.get(key)!);
    if (ledger.deleted.has(key)) {
      if (found === "absent") out.stayedDeleted++;
      else out.problems.push(`${key}: DELETE acknowledged, now ${found === "exact" ? "readable again" : found}`);
    } else if (ledger.created.has(key) && !ledger.deleteSent.has(key)) {
      if (found === "exact") out.kept++;
      else out.problems.push(`${key}: PUT got 201 (${ledger.sent.get(key)!.size} bytes), now ${found}`);
    } else if (found === "exact") out.unackedPresent++;
    else if (found === "absent") out.unackedAbsent++;
    else out.problems.push(`${key}: never acknowledged either way, but ${found}`);
  };
  for (let next = 0; next < keys.length; ) await Promise.all(keys.slice(next, (next += 16)).map(check));
  return out;
}

const BUCKETS: [number, string][] = [
  [1, "1 B"],
  [1 << 10, "≤ 1 KiB"],
  [100 << 10, "≤ 100 KiB"],
  [Infinity, "MiBs"],
];

/** "1 B: 40, ≤ 1 KiB: 38, …": the acknowledged PUTs by size. */
function bySize(ledger: Ledger): string {
  const counts = BUCKETS.map(() => 0);
  for (const key of ledger.created) counts[BUCKETS.findIndex(([max]) => ledger.sent.get(key)!.size <= max)]++;
  return BUCKETS.map(([, label], i) => `${label}: ${counts[i]}`).join(", ");
}

/** One line of the counts, for the test's output. */
function describeSurvival(ledger: Ledger, s: Survival): string {
  return (
    `${ledger.sent.size} PUTs sent, ${ledger.created.size} acknowledged (201; ${bySize(ledger)}; ${[...ledger.created].filter((k) => ledger.direct.has(k)).length} of them direct writes); ` +
    `${ledger.deleteSent.size} DELETEs sent, ${ledger.deleted.size} acknowledged (204/202); ` +
    `${ledger.inFlightAtCrash} requests in flight at the crash; answers (0: none): burst PUTs before it ` +
    `${JSON.stringify(ledger.statuses.before)}, after ${JSON.stringify(ledger.statuses.after)}, ` +
    `DELETEs ${JSON.stringify(ledger.statuses.delete)}. After restart: ` +
    `${s.kept} acknowledged values exact, ${s.stayedDeleted} deleted keys 404; keys with no acknowledgement ` +
    `(PUT or DELETE unanswered): ${s.unackedPresent} exact, ${s.unackedAbsent} absent`
  );
}

/** `kvdb verify --repair`, then `kvdb verify`: their exit codes and summaries. */
async function verifyAfterRepair(master: string): Promise<{ repair: number | string; verify: number | string; output: string }> {
  const repair = await runKvdb(["verify", "--repair", "--master", master], {}, 60_000);
  const verify = await runKvdb(["verify", "--master", master], {}, 60_000);
  const output = [repair, verify].map((r) => (r.stdout + r.stderr).trim()).join("\n");
  return { repair: repair.code, verify: verify.code, output };
}

/**
 * Asserts all of it after a restart: every key read back as its ledger says, then
 * verify --repair and verify exit 0. Prints the counts after `label`; `step` names
 * each phase (for a watchdog).
 */
export async function assertSurvived(label: string, master: string, ledger: Ledger, step: (name: string) => void): Promise<void> {
  step("reading back every key");
  const survival = await checkSurvival(master, ledger);
  console.log(`${label}: ${describeSurvival(ledger, survival)}`);
  assert.equal(survival.problems, [], "acknowledged PUTs and DELETEs hold, nothing corrupt");
  step("verify --repair, verify");
  const verified = await verifyAfterRepair(master);
  console.log(verified.output);
  assert.equal([verified.repair, verified.verify], [0, 0], "verify --repair, then verify, exit 0");
}
