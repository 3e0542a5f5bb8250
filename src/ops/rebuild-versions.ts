/**
 * How `kvdb rebuild` (rebuild.ts) maps what the volumes hold back to keys. A value
 * written through S3 is stored under a version name of its key (keys/names.ts), so one
 * key may have several stored names on the volumes: its current value, and values a
 * crash left behind (an overwrite cut short before the index switched, or old replicas
 * not yet deleted after it did). Replicas are staged under stagedName(): the key, then
 * the stored name, so that all of a key's names come out of staging together.
 *
 * Which name wins: first the most complete — the most replicas that agree (size, md5)
 * with each other — then the newest, by the time in its version name (when its write
 * began; keys/names.ts), or for a value stored under the key itself (curl), its
 * replicas' time on the volumes. Every other name's replicas become orphans.
 */
import type { NewRecord, Replica } from "../master/index/index.ts";
import { ownerOf, VERSION_PREFIX } from "../keys/names.ts";

/** Separates the key from the stored name when they differ; keys never hold a NUL byte (keys/keys.ts). */
const SEP = "\0";

export function stagedName(name: string): string {
  const key = ownerOf(name);
  return key === name ? name : `${key}${SEP}${name}`;
}

export function fromStaged(staged: string): { key: string; name: string } {
  const i = staged.indexOf(SEP);
  return i < 0 ? { key: staged, name: staged } : { key: staged.slice(0, i), name: staged.slice(i + 1) };
}

/** One stored name's replicas merged: the record they make, and replicas that disagreed with it. */
export interface Candidate {
  name: string;
  record: NewRecord;
  /** The time the candidate's write began, for choosing the newest. */
  born: number;
  disagreeing: { volume: string; replica: Replica }[];
}

/** The time in a version name (its first id characters, base 36, before 12 hex digits of randomness). */
function versionTime(name: string): number | undefined {
  if (!name.startsWith(VERSION_PREFIX)) return undefined;
  const id = name.slice(VERSION_PREFIX.length, name.indexOf("/", VERSION_PREFIX.length));
  const t = parseInt(id.slice(0, -12), 36);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Merges one stored name's replicas: those that agree (size and md5) with the majority
 * (ties: the first volume listed) make the record, in placement order `order`.
 */
export function candidate(key: string, name: string, replicas: { volume: string; replica: Replica }[], order: string[]): Candidate {
  const groups = new Map<string, typeof replicas>();
  for (const r of replicas) {
    const id = `${r.replica.size} ${r.replica.md5}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  const best = [...groups.values()].sort((a, b) => b.length - a.length)[0]; // stable: ties keep the first volume's
  const volumes = best.map((r) => r.volume).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const { size, md5, fields } = best[0].replica;
  const time = Math.max(...best.map((r) => r.replica.time));
  const record: NewRecord = { state: "live", volumes, size, md5, time, ...(name !== key ? { blob: name } : {}), ...(fields ? { s3: fields } : {}) };
  return { name, record, born: versionTime(name) ?? time, disagreeing: replicas.filter((r) => !best.includes(r)) };
}

/** The candidate that becomes the key's value: the most replicas, then the newest. */
export function winner(candidates: Candidate[]): Candidate {
  return candidates.reduce((a, b) => {
    if (a.record.volumes.length !== b.record.volumes.length) return a.record.volumes.length > b.record.volumes.length ? a : b;
    return b.born > a.born ? b : a;
  });
}
