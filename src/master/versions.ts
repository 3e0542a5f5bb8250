/**
 * Values that replace others atomically (S3's PutObject, CopyObject and multipart
 * completion). The new value is written under a fresh version name (keys/names.ts)
 * beside the current one, then one index step (Index.replace) makes it the key's value,
 * then the old replicas are deleted. A reader never sees a mix: a GET already streaming
 * keeps reading the old file, the next one is sent to the new. A crash before the switch
 * leaves the old value (the half-made version is `writing`, and the janitor deletes it);
 * a crash after it leaves the new one (the old replicas are orphans the janitor deletes).
 */
import type { DeclaredLength } from "../wire/content-length.ts";
import { KvdbError, nothingStored } from "../errors.ts";
import { someFields, type ValueFields } from "../keys/fields.ts";
import { storedName, versionName } from "../keys/names.ts";
import type { KeyRecord, NewRecord } from "./index/index.ts";
import type { Within } from "./index/tables.ts";
import type { Master } from "./master.ts";
import { dropReplicas, purge, wanted } from "./replicas.ts";
import { VolumeError } from "./volume-error.ts";
import { begin, owedOn, tooFewUp } from "./write-policy.ts";
import { writeReplicas } from "./write-replicas.ts";

/** A value the new one is made of, as the volumes hold it. */
export interface Piece {
  name: string;
  size: number;
  volumes: string[];
  /** The piece is `size` bytes of the value from this one (S3's UploadPartCopy of a range); absent: the whole value. */
  offset?: number;
}

/**
 * A condition on the key's current record (undefined: it has none), checked in the step
 * that switches the new value in: it throws to refuse the value (nothing is stored). The
 * switch is a compare-and-set on the record it was given (Index.replace), so the check
 * and the switch are one atomic step: if another write changes the key in between, the
 * record is read again and checked again.
 */
export type Precondition = (current: KeyRecord | undefined) => void;

/** How long a replacing write waits for another operation on the key (a curl PUT may stream for minutes). */
const SWITCH_WAIT_MS = 10 * 60_000;

/** How many times a switch is tried while other masters keep changing the key. */
const SWITCH_TRIES = 5;

/**
 * Stores `body` as the key's new value, replacing any current one. `check` may refuse
 * what arrived (a checksum) before it becomes visible; nothing is stored then. With
 * `within` (an S3 object's bucket), the value becomes visible only if that entry still
 * exists then (Index.replace; else a KvdbError "gone", nothing stored).
 */
export async function putVersion(
  m: Master,
  key: string,
  declared: DeclaredLength,
  body: AsyncIterable<Uint8Array> | null,
  fields: ValueFields,
  check?: (w: { size: number; md5: string }) => void,
  within?: Within,
  precondition?: Precondition,
): Promise<KeyRecord> {
  const name = versionName(key);
  return (await m.locks.hold(name, async () => {
    const { record, size, md5, volumes, failed } = await writeReplicas(m, key, name, declared, body, check, fields);
    const live: NewRecord = { state: "live", volumes, size, md5, time: Date.now(), blob: name, ...s3Of(fields), ...owedOn(m, volumes) };
    return switchIn(m, key, name, record, live, within, precondition, failed);
  }))!;
}

/**
 * Makes the key's new value on the volumes themselves from `pieces`, one after the other
 * (each target volume reads its own copies or pulls them: volume/assemble.ts; the
 * master sends no byte), then switches it in as putVersion does.
 */
export async function assembleVersion(m: Master, key: string, pieces: Piece[], fields: ValueFields, within?: Within, precondition?: Precondition): Promise<KeyRecord> {
  // At least --min-replicas volumes up: the rest are owed (a volume failing mid-assembly still fails it).
  const volumes = wanted(m, key);
  if (volumes.length < m.minReplicas) throw tooFewUp(volumes.length, m.minReplicas);
  const name = versionName(key);
  const size = pieces.reduce((n, p) => n + p.size, 0);
  return (await m.locks.hold(name, async () => {
    const staged = await begin(m, name, volumes);
    let md5: string;
    try {
      const answers = await Promise.allSettled(volumes.map((v) => m.client.assemble(v, name, pieces, fields)));
      const made = answers.map((a) => {
        if (a.status === "rejected") throw a.reason;
        return a.value;
      });
      const odd = made.findIndex((w) => w.size !== size || w.md5 !== made[0].md5);
      if (odd >= 0) throw new VolumeError(volumes[odd], "mismatch", `assembled ${made[odd].size} bytes md5 ${made[odd].md5}; expected ${size} bytes md5 ${made[0].md5}`);
      md5 = made[0].md5;
    } catch (e) {
      await purge(m, name, staged).catch(() => {});
      throw e;
    }
    return switchIn(m, key, name, staged, { state: "live", volumes, size, md5, time: Date.now(), blob: name, ...s3Of(fields), ...owedOn(m, volumes) }, within, precondition);
  }))!;
}

/** The record's `s3` fields: absent when the client set none. */
function s3Of(fields: ValueFields): { s3?: ValueFields } {
  const s3 = someFields(fields);
  return s3 ? { s3 } : {};
}

/**
 * Makes `live` (whose replicas were written under the in-flight record `name`, still
 * `staged`) the key's value in one index step (a compare-and-set on both records:
 * Index.replace), then deletes the old value's replicas. `precondition` is checked
 * against the record each compare-and-set is made on.
 */
async function switchIn(m: Master, key: string, name: string, staged: KeyRecord, live: NewRecord, within?: Within, precondition?: Precondition, failed: string[] = []): Promise<KeyRecord> {
  const refuse = async (why: string): Promise<never> => {
    // If the index cannot be reached now, the janitor finishes the cleanup later.
    await purge(m, name, staged).catch(() => {});
    throw nothingStored(new KvdbError("busy", why));
  };
  let record: KeyRecord | undefined;
  const switched = await m.locks.holdWhenFree(
    key,
    async () => {
      // Another master may switch the key in between our read and our step (the
      // compare-and-set then changes nothing): the value read again, the step is retried.
      for (let attempt = 0; attempt < SWITCH_TRIES && !record; attempt++) {
        const old = await m.index.get(key);
        // Another master is writing or deleting the key (index.ts: busy).
        if (old?.busy) return refuse("another master is changing this key");
        const oldName = old && storedName(key, old);
        // The old value's replicas, and the new one's where its write failed (--min-replicas).
        const owed = [...(old ? old.volumes.map((volume) => ({ volume, name: oldName! })) : []), ...failed.map((volume) => ({ volume, name }))];
        try {
          precondition?.(old);
          record = await m.index.replace(key, old, live, { key: name, record: staged }, owed, within);
        } catch (e) {
          await purge(m, name, staged).catch(() => {});
          // The bucket went meanwhile (KvdbError "gone"), or the index failed: nothing stored.
          throw e instanceof KvdbError ? nothingStored(e) : e;
        }
        // Still holding the key: no new value can take the old one's name meanwhile.
        if (record && old) await dropReplicas(m, oldName!, old.volumes);
      }
      if (!record) return refuse("the key kept changing (other masters)");
    },
    SWITCH_WAIT_MS,
  );
  return switched && record ? record : refuse("another write or delete of this key held it too long");
}
