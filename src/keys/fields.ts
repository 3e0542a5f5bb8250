/**
 * What an S3 client stores with a value besides its bytes (Content-Type, x-amz-meta-*,
 * a multipart ETag), as the master hands it to the volumes: the volume keeps it in its
 * catalog beside size and md5 (volume/catalog.ts), so that `kvdb rebuild`, which reads
 * only the volumes, can restore it (ops/rebuild.ts). On the wire it is one header,
 * FIELDS_HEADER: percent-encoded JSON (header values are ASCII; metadata may not be).
 */
export interface ValueFields {
  type?: string;
  /** Names lower-case, without the x-amz-meta- prefix. */
  meta?: Record<string, string>;
  etag?: string;
}

export const FIELDS_HEADER = "x-kvdb-fields";

/**
 * The standard headers S3 keeps with a value as a client sent them and answers with on
 * every GET and HEAD. They ride in `meta` under ":" + their name (KVDB_META_MARK): no
 * x-amz-meta- header can make such a name (":" is not a header-name character), and so
 * the index, the volume catalog and rebuild keep them with no stored form changed.
 */
export const KEPT_HEADERS = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
/** The first character of the `meta` names that are kvdb's own, not a client's x-amz-meta-*. */
export const KVDB_META_MARK = ":";

/** The kept standard headers of a value (KEPT_HEADERS), by their header names. */
export function keptHeaders(f: ValueFields | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = f?.meta?.[KVDB_META_MARK + name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Only the fields that are set; undefined when none is. */
export function someFields(f: ValueFields | undefined): ValueFields | undefined {
  if (!f) return undefined;
  const out: ValueFields = {};
  if (typeof f.type === "string") out.type = f.type;
  if (f.meta && typeof f.meta === "object" && Object.keys(f.meta).length) out.meta = f.meta;
  if (typeof f.etag === "string") out.etag = f.etag;
  return Object.keys(out).length ? out : undefined;
}

export function encodeFields(f: ValueFields | undefined): string | undefined {
  const some = someFields(f);
  return some && encodeURIComponent(JSON.stringify(some));
}

/** The fields a header names; undefined if none; throws on a malformed header. */
export function decodeFields(header: string | undefined | null): ValueFields | undefined {
  if (!header) return undefined;
  const parsed = JSON.parse(decodeURIComponent(header)) as ValueFields;
  const meta = parsed.meta;
  const ok =
    (parsed.type === undefined || typeof parsed.type === "string") &&
    (parsed.etag === undefined || typeof parsed.etag === "string") &&
    (meta === undefined || (typeof meta === "object" && meta !== null && Object.values(meta).every((v) => typeof v === "string")));
  if (!ok) throw new Error(`malformed ${FIELDS_HEADER}`);
  return someFields(parsed);
}
