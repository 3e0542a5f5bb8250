/**
 * A burst of concurrent PUTs against a master, with DELETEs of some keys as soon as
 * their PUT is acknowledged, and a crash (the caller's kill) in the middle of it. The
 * ledger records what the servers acknowledged, which is what must survive the crash.
 */
import { keyPath } from "../src/keys/keys.ts";
import { streamPut } from "./streams.ts";

export interface Planned {
  key: string;
  size: number;
}

export interface Ledger {
  /** Every key a PUT was sent for: its value's size and md5 (generated from the key). */
  sent: Map<string, { size: number; md5: string }>;
  /** Keys whose PUT got 201. */
  created: Set<string>;
  /** Keys a DELETE was sent for, and those of them that got 204. */
  deleteSent: Set<string>;
  deleted: Set<string>;
  /** Requests sent and not answered when the crash came. */
  inFlightAtCrash: number;
}

export interface BurstOptions {
  /** DELETE every n-th key whose PUT got 201 (0: no DELETEs). */
  deleteEvery: number;
  /** Asked after each answer: is it time to crash? (The end of the burst always is.) */
  crashWhen: (ledger: Ledger) => boolean;
  /** Kills the servers; resolves once they are dead. */
  crash: () => Promise<void>;
  /** No request of the burst lasts longer than this. */
  timeoutMs: number;
}

/** Every planned PUT at once; resolves after the crash, every request settled. */
export async function burst(master: string, plan: Planned[], o: BurstOptions): Promise<Ledger> {
  const ledger: Ledger = { sent: new Map(), created: new Set(), deleteSent: new Set(), deleted: new Set(), inFlightAtCrash: 0 };
  let inFlight = 0;
  let crashed: Promise<void> | undefined;
  const answered = () => {
    inFlight--;
    if (!crashed && o.crashWhen(ledger)) {
      ledger.inFlightAtCrash = inFlight;
      crashed = o.crash();
    }
  };
  const deletes: Promise<void>[] = [];
  const remove = async (key: string) => {
    ledger.deleteSent.add(key);
    try {
      const res = await fetch(`${master}${keyPath(key)}`, { method: "DELETE", signal: AbortSignal.timeout(o.timeoutMs) });
      await res.arrayBuffer();
      if (res.status === 204) ledger.deleted.add(key);
    } catch {
      // cut by the crash: not acknowledged
    } finally {
      answered();
    }
  };
  const put = async ({ key, size }: Planned) => {
    const res = await streamPut(`${master}${keyPath(key)}`, size, { seed: key, chunk: 256 << 10, timeoutMs: o.timeoutMs });
    ledger.sent.set(key, { size, md5: res.md5 });
    if (res.status === 201) {
      ledger.created.add(key);
      if (o.deleteEvery && ledger.created.size % o.deleteEvery === 0 && !crashed) {
        inFlight++;
        deletes.push(remove(key));
      }
    }
    answered();
  };
  inFlight = plan.length;
  await Promise.all(plan.map(put));
  await Promise.all(deletes);
  crashed ??= o.crash();
  await crashed;
  return ledger;
}
