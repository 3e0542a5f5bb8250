/**
 * Where a volume puts a value, and in which order. The catalog lists every blob file
 * at every instant, so a crash never leaves a file that verify and rebuild (which read
 * the catalog) cannot see; at worst an entry whose file is missing, which verify
 * reports and repairs.
 *   small (≤ inlineMax bytes): bytes and entry in one synced catalog batch, no file;
 *   larger: temp file fsynced → entry recorded → rename → directory fsynced;
 *   delete: file unlinked and its directory fsynced → entry dropped.
 * A key changing form (inline ↔ file) leaves only the new form: the catalog batch that
 * records a file drops the inline bytes, and a file is unlinked before inline bytes
 * replace it.
 */
import { createHash } from "node:crypto";
import type { ValueFields } from "../keys/fields.ts";
import type { Blobs } from "./blobs.ts";
import type { Catalog } from "./catalog.ts";
import type { Written } from "./receive.ts";
import { takeSmall } from "../wire/small-body.ts";
import type { Space } from "./space.ts";

/**
 * The inline threshold measured on this project's machine (docs/VOLUME-STORAGE.md):
 * a volume's default (VolumeOptions.inlineMax, `kvdb volume --inline-max`).
 */
export const INLINE_MAX = 32 << 10;

export class Store {
  /**
   * `inlineMax`: values of at most this many bytes live in the catalog; 0 for none
   * (every value a file, even an empty one).
   */
  constructor(
    readonly catalog: Catalog,
    readonly blobs: Blobs,
    readonly space: Space,
    readonly inlineMax: number,
  ) {}

  /**
   * Stores `body` (`length` bytes, if known) under `key` and resolves once bytes and
   * record are durable. `check` may refuse what arrived (by throwing): nothing is stored.
   * `fields` (S3's) are kept in the catalog entry. `givenMd5`: the value's md5 as its
   * sender hashed it, asked once the body has ended (receive.ts; a small value is hashed
   * here all the same).
   */
  async put(key: string, body: AsyncIterable<Uint8Array>, length: number | undefined, check: (w: Written) => void, fields?: ValueFields, givenMd5?: () => string): Promise<Written> {
    body = this.space.capped(body);
    const taken = this.inlineMax <= 0 || (length ?? 0) > this.inlineMax ? { large: body } : await takeSmall(body, this.inlineMax);
    if ("small" in taken) return this.putInline(key, taken.small, check, fields);
    let recorded = false;
    try {
      return await this.blobs.write(key, taken.large, async (written) => {
        check(written);
        await this.catalog.put(key, { ...written, time: Date.now(), fields });
        recorded = true;
      }, givenMd5);
    } catch (e) {
      // Recorded but not in place (a failed rename or directory fsync): the PUT fails,
      // so nothing may stay. If this cleanup fails too, the entry shows as missing.
      if (recorded) await this.remove(key).catch(() => {});
      throw e;
    }
  }

  private async putInline(key: string, bytes: Uint8Array<ArrayBuffer>, check: (w: Written) => void, fields?: ValueFields): Promise<Written> {
    const written = { size: bytes.byteLength, md5: createHash("md5").update(bytes).digest("hex") };
    check(written);
    const old = this.catalog.get(key);
    if (old && !old.inline) await this.blobs.remove(key);
    await this.catalog.put(key, { ...written, time: Date.now(), fields }, bytes);
    return written;
  }

  /** Forgets `key`, file first; false if there was neither an entry nor a file. */
  async remove(key: string): Promise<boolean> {
    const entry = this.catalog.get(key);
    const removed = entry?.inline ? false : await this.blobs.remove(key);
    if (entry) await this.catalog.del(key);
    return !!entry || removed;
  }
}
