/**
 * A PUT, DELETE or UNLINK that meets another operation on its key waits for it, then
 * answers from what that operation left: 409 only because the key exists, 404 only
 * because it is gone. The wait is bounded by --busy-wait (Master.busyWaitMs); past it
 * the operation fails `busy` (503 with Retry-After on the curl API), having changed
 * nothing. The other operation may be this master's (its key lock) or another
 * master's (the record is `busy`: its owner's lease holds), whose end shows only in
 * the index, so that wait polls; so does a direct write's (direct-terms.ts), which no
 * master holds while the client sends the body to a volume.
 */
import { KvdbError } from "../errors.ts";
import { directPending } from "./direct-terms.ts";
import type { KeyRecord, NewRecord } from "./index/index.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";

/** How long a PUT or DELETE waits for another operation on its key unless told otherwise (--busy-wait). */
export const DEFAULT_BUSY_WAIT_MS = 5000;

const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 250;

/** What an operation that holds its key sees of it. */
export interface Settled {
  /** The key's record once no other master is changing it (undefined: no record); throws `busy` past the deadline. */
  record(): Promise<KeyRecord | undefined>;
  /** Before reading the record again after a change lost its compare-and-set: throws `busy` past the deadline. */
  again(): void;
}

/** Why a PUT of a key gets 409: the only reason it may. */
export const KEY_EXISTS = "key exists (values are immutable: DELETE it first)";

function busy(): KvdbError {
  return new KvdbError("busy", "another write or delete of this key is still in flight; nothing changed, try again");
}

/**
 * Runs `fn` holding `key` on this master, once any operation on it here has ended,
 * with a view of the record that waits out other masters' operations, all within one
 * deadline, which the key's lock carries to createForWrite.
 */
export async function exclusively<T>(m: Master, key: string, fn: (settled: Settled) => Promise<T>): Promise<T> {
  const deadline = Date.now() + m.busyWaitMs;
  const settled: Settled = {
    record: () => settledRecord(m, key, deadline),
    again() {
      if (Date.now() >= deadline) throw busy();
    },
  };
  const held = await m.locks.holdBy(key, deadline, () => fn(settled));
  if (!held) throw busy();
  return held.value;
}

async function settledRecord(m: Master, key: string, deadline: number): Promise<KeyRecord | undefined> {
  for (let pause = POLL_FIRST_MS; ; pause = Math.min(2 * pause, POLL_MAX_MS)) {
    const record = await m.index.get(key);
    if (!record?.busy && !directPending(record)) return record;
    const left = deadline - Date.now();
    if (left <= 0) throw busy();
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
  }
}

/**
 * Creates `key`'s record for a write (`writing`). Two masters may both have found the
 * key free and create at once: the index lets one win, and the other waits for the
 * winner's write to end and answers from what it left (`exists` if it wrote the key;
 * else it clears what is left, as write.ts does, and creates again), so a PUT never
 * hears 409 for a key whose only write then failed. Its wait ends by the deadline of
 * the PUT that holds the key (exclusively() gave it to the key's lock), so the waits
 * before and after the body add up to one --busy-wait; a write without one (S3's
 * version names, which no other operation creates) gets a --busy-wait of its own.
 */
export async function createForWrite(m: Master, key: string, record: NewRecord): Promise<KeyRecord> {
  const deadline = m.locks.deadlineOf(key) ?? Date.now() + m.busyWaitMs;
  for (;;) {
    const created = await m.index.create(key, record);
    if (created) return created;
    const other = await settledRecord(m, key, deadline);
    if (other?.state === "live") throw new KvdbError("exists", KEY_EXISTS);
    if (other) await purge(m, key, other);
    if (Date.now() >= deadline) throw busy();
  }
}
