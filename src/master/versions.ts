/**
 * Values that replace others atomically (S3's PutObject, CopyObject and multipart
 * completion). The new value is written under a fresh version name (keys/names.ts)
 * beside the current one, then one index step (Index.replace) makes it the key's value,
 * then the old replicas are deleted. A reader never sees a mix: a GET already streaming
 * keeps reading the old file, the next one is sent to the new. A crash before the switch
 * leaves the old value (the half-made version is `writing`, and the janitor deletes it);
 * a crash after it leaves the new one (the old replicas are orphans the janitor deletes).
 */
import type { DeclaredLength } from "../http/content-length.ts";
import { HttpError } from "../http/errors.ts";
import { storedName, versionName } from "../keys/names.ts";
import type { KeyRecord } from "./index/index.ts";
import type { Master } from "./master.ts";
import { dropReplicas, purge, wanted } from "./replicas.ts";
import { VolumeFailed } from "./replicate.ts";
import { writeReplicas } from "./store.ts";

/** What an S3 client stores with a value besides its bytes. */
export type Fields = Pick<KeyRecord, "type" | "meta" | "etag">;

/** A value the new one is made of, as the volumes hold it. */
export interface Piece {
  name: string;
  size: number;
  volumes: string[];
}

/** How long a replacing write waits for another operation on the key (a curl PUT may stream for minutes). */
const SWITCH_WAIT_MS = 10 * 60_000;

/**
 * Stores `body` as the key's new value, replacing any current one. `check` may refuse
 * what arrived (a checksum) before it becomes visible; nothing is stored then.
 */
export async function putVersion(
  m: Master,
  key: string,
  declared: DeclaredLength,
  body: AsyncIterable<Uint8Array> | null,
  fields: Fields,
  check?: (w: { size: number; md5: string }) => void,
): Promise<KeyRecord> {
  const name = versionName(key);
  return (await m.locks.hold(name, async () => {
    const { record, size, md5 } = await writeReplicas(m, key, name, declared, body, check);
    return switchIn(m, key, name, record, { ...record, state: "live", size, md5, time: Date.now(), blob: name, ...fields });
  }))!;
}

/**
 * Makes the key's new value on the volumes themselves from `pieces`, one after the other
 * (each target volume reads its own copies or pulls them: volume/assemble.ts; the
 * master sends no byte), then switches it in as putVersion does.
 */
export async function assembleVersion(m: Master, key: string, pieces: Piece[], fields: Fields): Promise<KeyRecord> {
  const volumes = wanted(m, key);
  if (volumes.length < m.replicas) throw new HttpError(503, `only ${volumes.length} of the ${m.replicas} replicas' volumes are up`);
  const name = versionName(key);
  const size = pieces.reduce((n, p) => n + p.size, 0);
  return (await m.locks.hold(name, async () => {
    const staged: KeyRecord = { state: "writing", volumes, size: 0, md5: "", time: Date.now() };
    await m.index.begin(name, staged);
    let md5: string;
    try {
      const answers = await Promise.all(volumes.map((v) => m.client.assemble(v, name, pieces).catch((e: Error) => ({ status: 0, body: e.message }))));
      const bad = answers.findIndex((a) => a.status !== 201);
      if (bad >= 0) throw new VolumeFailed(volumes[bad], answers[bad].status, `assembling answered ${answers[bad].status} ${answers[bad].body.trim()}`);
      const made = answers.map((a) => JSON.parse(a.body) as { size: number; md5: string });
      const odd = made.findIndex((w) => w.size !== size || w.md5 !== made[0].md5);
      if (odd >= 0) throw new VolumeFailed(volumes[odd], 0, `assembled ${made[odd].size} bytes md5 ${made[odd].md5}; expected ${size} bytes md5 ${made[0].md5}`);
      md5 = made[0].md5;
    } catch (e) {
      await purge(m, name, staged);
      throw e;
    }
    return switchIn(m, key, name, staged, { state: "live", volumes, size, md5, time: Date.now(), blob: name, ...fields });
  }))!;
}

/**
 * Makes `record` (whose replicas were written under the in-flight record `name`, still
 * `staged`) the key's value in one index step, then deletes the old value's replicas.
 */
async function switchIn(m: Master, key: string, name: string, staged: KeyRecord, record: KeyRecord): Promise<KeyRecord> {
  const switched = await m.locks.holdWhenFree(
    key,
    async () => {
      const old = await m.index.get(key);
      const oldName = old && storedName(key, old);
      const owed = old ? old.volumes.map((volume) => ({ volume, key: oldName! })) : [];
      try {
        await m.index.replace(key, record, name, owed);
      } catch (e) {
        await purge(m, name, staged);
        throw e;
      }
      // Still holding the key: no new value can take the old one's name meanwhile.
      if (old) await dropReplicas(m, oldName!, old.volumes);
    },
    SWITCH_WAIT_MS,
  );
  if (!switched) {
    await purge(m, name, staged);
    throw new HttpError(409, "another write or delete of this key held it too long; nothing stored");
  }
  return record;
}
