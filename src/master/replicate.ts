/**
 * Streams one request body to every replica at once. Each chunk goes to all
 * uploads before the next is read, so the slowest replica paces the client and the
 * master holds a few chunks, never the value.
 *
 * The master hashes nothing: each volume hashes the bytes it wrote (the ones that
 * matter), every replica must report the size sent and the same md5, and a client's
 * Content-MD5 is checked against that md5. A second hash in the master would only see
 * the same bytes the volumes were sent.
 */
import { HttpError } from "../http/errors.ts";
import { EarlyAnswer, Stalled, type Upload } from "../wire/upload.ts";

/** The client's body broke off (disconnect, reset) or came short. */
export class ClientAborted extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** A volume failed to take its replica: 507 if it said it is full, else 503. */
export class VolumeFailed extends HttpError {
  constructor(
    readonly volume: string,
    /** The volume's answer; 0: none (unreachable, broke off, or stored the wrong bytes). */
    readonly answered: number,
    message: string,
    /** Body bytes sent to it when it failed. */
    readonly sent = 0,
    /** It took nothing and said nothing for the volume timeout (a full disk never looks like that). */
    readonly stalled = false,
  ) {
    super(answered === 507 ? 507 : 503, `volume ${volume}: ${message}`);
  }
}

export interface Replicated {
  size: number;
  md5: string;
}

export interface Target {
  volume: string;
  upload: Upload;
}

/** The master lost the key it writes (its lease ran out): the rest of the value must not reach the volumes. */
export class LeaseLost extends HttpError {
  constructor() {
    super(503, "this master's lease on the index ran out while it wrote (it stalled or lost the database); the key may be another master's now");
  }
}

/** `leaseHeld`: checked before each chunk goes on (Index.leaseCheck). */
export async function replicate(body: AsyncIterable<Uint8Array>, targets: Target[], leaseHeld: () => boolean = () => true): Promise<Replicated> {
  let size = 0;
  const failed = (volume: string) => (e: unknown) => {
    if (e instanceof VolumeFailed) throw e;
    throw new VolumeFailed(volume, e instanceof EarlyAnswer ? e.status : 0, (e as Error).message, size, e instanceof Stalled);
  };
  const source = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await source.next();
      } catch (e) {
        // TooLarge, or what the S3 layer found wrong with the body (a bad chunk signature, checksum…).
        if (e instanceof HttpError) throw e;
        throw new ClientAborted(`upload aborted by the client: ${(e as Error).message}`);
      }
      if (next.done) break;
      if (!leaseHeld()) throw new LeaseLost();
      size += next.value.byteLength;
      await Promise.all(targets.map((t) => t.upload.write(next.value).catch(failed(t.volume))));
    }
  } catch (e) {
    for (const t of targets) t.upload.abort(e);
    throw e;
  }
  // Wait for every answer, good or bad, so no replica is still being written when we clean up.
  const answers = await Promise.allSettled(targets.map((t) => t.upload.end()));
  const stored = answers.map((a, i) => {
    const { volume } = targets[i];
    if (a.status === "rejected") return failed(volume)(a.reason);
    if (a.value.status !== 201) throw new VolumeFailed(volume, a.value.status, `answered ${a.value.status} ${a.value.body.trim()}`);
    return JSON.parse(a.value.body) as Replicated;
  });
  return agreed(targets.map((t) => t.volume), stored, size);
}

/**
 * The md5 every volume reports for the `size` bytes it was sent; VolumeFailed names
 * the first that stored another size or md5.
 */
export function agreed(volumes: string[], stored: Replicated[], size: number): Replicated {
  const md5 = stored[0].md5;
  stored.forEach((got, i) => {
    if (got.size !== size) throw new VolumeFailed(volumes[i], 0, `stored ${got.size} bytes, sent ${size}`);
    if (got.md5 !== md5) throw new VolumeFailed(volumes[i], 0, `stored md5 ${got.md5}, ${volumes[0]} stored ${md5}`);
  });
  return { size, md5 };
}
