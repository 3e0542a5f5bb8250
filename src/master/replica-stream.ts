/**
 * A streamed PUT of one replica (outgoing-body.ts) as the write path sees it: each step
 * resolves or fails with a VolumeError, and the volume's answer is read as what it stored.
 */
import { Stalled, type OutgoingBody } from "../wire/outgoing-body.ts";
import { answeredError, VolumeError, volumeError } from "./volume-error.ts";

/** What a volume holds of a replica: the size its bytes have and their md5. */
export interface Stored {
  size: number;
  md5: string;
}

/** A streamed PUT of one replica (outgoing-body.ts), each step failing with a VolumeError. */
export interface ReplicaStream {
  readonly volume: string;
  /** Resolves once connected; a volume that cannot be reached is "down" (or "stalled"). */
  ready(): Promise<void>;
  /** Resolves when the volume can take more: the slowest replica paces the sender. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the body: what the volume stored, once fsynced. */
  end(): Promise<Stored>;
  abort(reason: unknown): void;
}

/** `call`, a streamed PUT to `volume`, with its failures as VolumeErrors and its answer read. */
export function replicaStream(volume: string, call: OutgoingBody): ReplicaStream {
  let sent = 0;
  const failed = (e: unknown): never => {
    throw volumeError(volume, e, sent);
  };
  return {
    volume,
    // A connection that cannot be made is a volume down, whatever the reason.
    ready: () =>
      call.ready().catch((e) => {
        throw e instanceof Stalled ? volumeError(volume, e) : new VolumeError(volume, "down", (e as Error).message);
      }),
    write(chunk) {
      sent += chunk.byteLength;
      return call.write(chunk).catch(failed);
    },
    async end() {
      const answer = await call.end().catch(failed);
      if (answer.status !== 201) throw answeredError(volume, answer.status, answer.body);
      return JSON.parse(answer.body) as Stored;
    },
    abort: (reason) => call.abort(reason),
  };
}
