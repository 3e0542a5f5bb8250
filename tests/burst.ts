/**
 * A burst of concurrent PUTs against a master, with DELETEs of keys stored (and
 * acknowledged) just before it, more PUTs once every DELETE is answered, and a crash
 * (the caller's kill) in the middle of it. Some PUTs can be held partway through their
 * body until the crash, so the crash always finds writes in flight, however the race
 * goes. The ledger records what the servers acknowledged: what must survive the crash.
 */
import { keyPath } from "../src/keys/keys.ts";
import { streamPut } from "../harness/data.ts";

export interface Planned {
  key: string;
  size: number;
  /** Send this many bytes of the body, then wait for the crash before the rest. */
  holdAt?: number;
  /** Sent with Expect: 100-continue, so a value over the master's --direct-threshold goes direct (307 to a volume). */
  direct?: boolean;
}

export interface Ledger {
  /** Every key a PUT was sent for: its value's size and md5 (generated from the key). */
  sent: Map<string, { size: number; md5: string }>;
  /** Keys whose PUT got 201. */
  created: Set<string>;
  /** Keys whose PUT was sent on to a volume by a 307 (a direct write), answered or not. */
  direct: Set<string>;
  /**
   * Keys a DELETE was sent for, and those it was acknowledged for: 204, or 202 (gone
   * from the index at once, a down volume's replica deleted later).
   */
  deleteSent: Set<string>;
  deleted: Set<string>;
  /** Requests sent and not answered when the crash came. */
  inFlightAtCrash: number;
  /** How many burst PUTs got each status before and after the crash began, and DELETEs (0: no answer). */
  statuses: { before: Record<number, number>; after: Record<number, number>; delete: Record<number, number> };
}

const count = (tally: Record<number, number>, status: number) => void (tally[status] = (tally[status] ?? 0) + 1);

export interface BurstOptions {
  /** Stored before the burst (each must get 201), then DELETEd during it. */
  prelude: Planned[];
  /**
   * PUT once every DELETE is answered: the server handles them after the DELETEs'
   * synced writes, so nothing syncs them but their own writes.
   */
  tail: Planned[];
  /** Asked after each answer: is it time to crash? (Once only held PUTs are left, it is.) */
  crashWhen: (ledger: Ledger) => boolean;
  /** Kills the servers; resolves once they are dead. */
  crash: () => Promise<void>;
  /** No request lasts longer than this (a held PUT, 3 times this). */
  timeoutMs: number;
}

/**
 * Stores the prelude, then sends every planned PUT and every DELETE at once, and the
 * tail after the DELETEs; resolves after the crash, every request settled.
 */
export async function burst(master: string, plan: Planned[], o: BurstOptions): Promise<Ledger> {
  const ledger: Ledger = { sent: new Map(), created: new Set(), direct: new Set(), deleteSent: new Set(), deleted: new Set(), inFlightAtCrash: 0, statuses: { before: {}, after: {}, delete: {} } };
  const put = async ({ key, size, holdAt, direct }: Planned, hold: Promise<void>) => {
    const res = await streamPut(`${master}${keyPath(key)}`, size, {
      seed: key,
      expect: direct,
      chunk: holdAt ?? 256 << 10,
      pause: (sent) => (holdAt && sent >= holdAt ? hold : undefined),
      timeoutMs: holdAt ? 3 * o.timeoutMs : o.timeoutMs, // a held PUT waits for the rest too
    });
    ledger.sent.set(key, { size, md5: res.md5 });
    if (res.redirectedTo) ledger.direct.add(key);
    if (res.status === 201) ledger.created.add(key);
    return res.status;
  };
  const stored = await Promise.all(o.prelude.map((p) => put(p, Promise.resolve())));
  if (stored.some((s) => s !== 201)) throw new Error(`storing the keys to delete: answers ${stored.join(",")}`);

  // Held PUTs go on once every server is dead: their uploads fail, never complete.
  let release!: () => void;
  const dead = new Promise<void>((r) => (release = r));
  let crashed: Promise<void> | undefined;
  let held = plan.filter((p) => p.holdAt).length;
  let running = plan.length - held + o.prelude.length + o.tail.length;
  if (!running) throw new Error("a burst needs requests that are not held, to race the crash");
  const answered = () => {
    running--;
    if (!crashed && (running === 0 || o.crashWhen(ledger))) {
      ledger.inFlightAtCrash = running + held;
      crashed = o.crash().finally(release);
    }
  };
  const putInBurst = async (p: Planned) => {
    const status = await put(p, dead);
    count(crashed ? ledger.statuses.after : ledger.statuses.before, status);
    if (p.holdAt) held--;
    else answered();
  };
  const remove = async (key: string) => {
    ledger.deleteSent.add(key);
    let status = 0; // cut by the crash: not acknowledged
    try {
      const res = await fetch(`${master}${keyPath(key)}`, { method: "DELETE", signal: AbortSignal.timeout(o.timeoutMs) });
      await res.arrayBuffer();
      status = res.status;
    } catch {}
    if (status === 204 || status === 202) ledger.deleted.add(key);
    count(ledger.statuses.delete, status);
    answered();
  };
  const deletesThenTail = Promise.all(o.prelude.map((p) => remove(p.key))).then(() => Promise.all(o.tail.map(putInBurst)));
  await Promise.all([...plan.map(putInBurst), deletesThenTail]);
  await crashed;
  return ledger;
}
