/**
 * Writing a value's replicas: the part of a write that the curl API (write.ts) and the
 * S3 API (versions.ts) share. A small body with its length declared is read whole and
 * sent in each volume's next batch (batched-write.ts); any other is streamed to every
 * replica at once (streamed-write.ts). Both record the value `writing` first, so a
 * restart undoes a write that was cut short (janitor.ts), and share one retry policy and
 * one undo (write-policy.ts): any failure deletes what was written.
 */
import type { DeclaredLength } from "../wire/content-length.ts";
import { BATCH_VALUE_MAX } from "../wire/batch-wire.ts";
import type { ValueFields } from "../keys/fields.ts";
import type { Master } from "./master.ts";
import { writeBatched } from "./batched-write.ts";
import { writeStreamed } from "./streamed-write.ts";
import type { Stored } from "./volume-client.ts";
import type { Written } from "./write-policy.ts";


/**
 * Writes `body` as new replicas of the value stored as `name`, on the volumes where
 * placement puts `key` (`name` is `key`, or a version name of it: keys/names.ts).
 * Resolves once every replica, or at least --min-replicas of them when volumes failed
 * (Written.volumes), holds the bytes durably and they agree on size and md5,
 * and `check` (the caller's own tests of what arrived) passed. Throws a KvdbError (or
 * what the body or `check` threw) otherwise, having deleted whatever was written.
 */
export function writeReplicas(
  m: Master,
  key: string,
  name: string,
  declared: DeclaredLength,
  body: AsyncIterable<Uint8Array> | null,
  check: (w: Stored) => void = () => {},
  fields?: ValueFields,
): Promise<Written> {
  if (body && declared.kind === "length" && declared.bytes <= BATCH_VALUE_MAX) return writeBatched(m, key, name, declared.bytes, body, check, fields);
  return writeStreamed(m, key, name, declared, body, check, fields);
}
