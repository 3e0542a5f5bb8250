/**
 * A small value (at most http/batch-wire.ts's BATCH_VALUE_MAX bytes, its length
 * declared): read whole, then sent to each replica's volume in that volume's next batch
 * (batches.ts), on no connection of its own. The value being in memory, a volume that
 * gave no answer (it refused the connection, stalled, or a batch before this one did,
 * or a kept-alive connection broke) costs no failed write: the write starts over on the
 * next volumes (write-policy.ts's retry policy), as a streamed write's connect does.
 */
import type { ValueFields } from "../keys/fields.ts";
import { HttpError } from "../http/errors.ts";
import { takeSmall } from "../wire/small-body.ts";
import { isKvdbError, nothingStored } from "../errors.ts";
import type { Master } from "./master.ts";
import type { Stored } from "./volume-client.ts";
import { agreed, begin, candidatesFor, clientAborted, held, type Written, leaseLost, startsOver, undone } from "./write-policy.ts";

/**
 * Writes the `length` bytes of `body` as new replicas of the value stored as `name`, on
 * the volumes where placement puts `key`. Resolves once every replica (or, when some
 * volumes failed, at least --min-replicas: write-policy.ts held) holds them durably and
 * they agree, and `check` passed; throws otherwise, having deleted whatever was written.
 */
export async function writeBatched(
  m: Master,
  key: string,
  name: string,
  length: number,
  body: AsyncIterable<Uint8Array>,
  check: (w: Stored) => void,
  fields?: ValueFields,
): Promise<Written> {
  const bytes = await readWhole(body, length);
  for (let attempt = 0; ; attempt++) {
    const volumes = candidatesFor(m, key, length).slice(0, m.replicas);
    const leaseHeld = m.index.leaseCheck();
    const record = await begin(m, name, volumes);
    try {
      if (!leaseHeld()) throw leaseLost();
      const answers = await Promise.allSettled(volumes.map((v) => m.client.putSmall(v, name, bytes, fields)));
      const failures = answers.flatMap((a) => (a.status === "rejected" ? [a.reason] : []));
      const kept = failures.length ? held(m, volumes, answers) : { volumes, values: answers.map((a) => (a as PromiseFulfilledResult<Stored>).value), failed: [] };
      if (!kept && (await startsOver(m, name, record, failures, attempt))) continue;
      if (!kept) throw failures[0];
      const written = agreed(kept.volumes, kept.values, length);
      check(written);
      return { record, ...written, volumes: kept.volumes, failed: kept.failed };
    } catch (e) {
      throw await undone(m, name, record, e, length);
    }
  }
}

/** A small body, whole; it must have exactly its declared `length`. Nothing is stored yet if it fails. */
async function readWhole(body: AsyncIterable<Uint8Array>, length: number): Promise<Uint8Array> {
  let taken;
  try {
    taken = await takeSmall(body, length);
  } catch (e) {
    // TooLarge, or what the S3 layer found wrong with the body (a bad chunk signature, checksum…).
    if (e instanceof HttpError || isKvdbError(e)) throw nothingStored(e);
    throw nothingStored(clientAborted(`upload aborted by the client: ${(e as Error).message}`));
  }
  if (!("small" in taken)) throw nothingStored(clientAborted(`the body is longer than its declared ${length} bytes`));
  if (taken.small.byteLength < length) throw nothingStored(clientAborted(`body ended after ${taken.small.byteLength} of ${length} bytes`));
  return taken.small;
}
