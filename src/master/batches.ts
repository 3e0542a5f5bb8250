/**
 * Group commit over the network: small replica writes and deletes bound for one
 * volume are gathered while the previous batch to it is in flight, then sent together
 * as one POST /_kvdb/batch (wire/batch-wire.ts). Under many concurrent small writes
 * a volume then answers one request per window instead of one per replica, and its
 * catalog syncs them in one batch. Each operation still resolves only with the
 * volume's answer for it, given once that operation is durable.
 */
import { GroupCommit } from "../durable/group-commit.ts";
import { MAX_BODY, MAX_OPS, type BatchOp, type BatchResult } from "../wire/batch-wire.ts";
import { Stalled } from "../wire/outgoing-body.ts";

interface Queued {
  op: BatchOp;
  bytes?: Uint8Array;
  result?: BatchResult;
}

/** Sends one batch to a volume: its answers in order; throws if the volume could not be reached or answered no list. */
export type SendBatch = (volume: string, ops: BatchOp[], values: Uint8Array[]) => Promise<BatchResult[]>;

/** Splits a group into requests of at most MAX_OPS operations and MAX_BODY bytes. */
function requests(items: Queued[]): Queued[][] {
  const out: Queued[][] = [];
  let bytes = 0;
  for (const item of items) {
    // Its entry in the head line (and a comma), and its value.
    const size = Buffer.byteLength(JSON.stringify(item.op)) + 1 + (item.bytes?.byteLength ?? 0);
    const last = out.at(-1);
    if (!last || last.length >= MAX_OPS || bytes + size > MAX_BODY - 2) { // 2: the head's [ and its newline
      out.push([item]);
      bytes = size;
    } else {
      last.push(item);
      bytes += size;
    }
  }
  return out;
}

export class VolumeBatches {
  private readonly queues = new Map<string, GroupCommit<Queued>>();

  constructor(private readonly send: SendBatch) {}

  /** The volume's answer to `op` (with `bytes` for a put), sent in its next batch. */
  async run(volume: string, op: BatchOp, bytes?: Uint8Array): Promise<BatchResult> {
    let queue = this.queues.get(volume);
    if (!queue) this.queues.set(volume, (queue = new GroupCommit((items) => this.flush(volume, items))));
    const item: Queued = { op, bytes };
    await queue.add(item);
    return item.result!;
  }

  private async flush(volume: string, items: Queued[]): Promise<void> {
    try {
      await Promise.all(
        requests(items).map(async (group) => {
          const values = group.flatMap((i) => (i.bytes ? [i.bytes] : []));
          const results = await this.send(volume, group.map((i) => i.op), values);
          if (results.length !== group.length) throw new Error(`${volume}: ${results.length} answers to a batch of ${group.length}`);
          group.forEach((item, i) => (item.result = results[i]));
        }),
      );
    } catch (e) {
      // What queued behind a stalled batch fails now, as stalled too, not one more
      // timeout later: it was never sent, and would only wait as long again.
      if (e instanceof Stalled) this.queues.get(volume)?.rejectQueued(new Stalled(`not sent to ${volume}: ${e.message}`));
      throw e;
    }
  }
}
