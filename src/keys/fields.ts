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

/** The kept standard headers of a value (KEPT_HEADERS), by their header names, as they can be sent (mailSafe). */
export function keptHeaders(f: ValueFields | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const v = f?.meta?.[KVDB_META_MARK + name];
    if (v !== undefined) out[name] = mailSafe(v);
  }
  return out;
}

/**
 * A stored value as a response header can carry it: as is when printable ASCII, else
 * RFC 2047's =?UTF-8?B?…?=, as S3 answers metadata that is not ASCII (a header holds bytes,
 * not text; a character past U+00FF could not be sent at all).
 */
export function mailSafe(v: string): string {
  return /^[\x20-\x7e\t]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v).toString("base64")}?=`;
}

/** A request header's text: runtimes read its bytes as Latin-1; bytes that are UTF-8 (what clients send) are read as such. */
export function headerText(v: string): string {
  if (!/[^\x00-\x7f]/.test(v)) return v;
  const bytes = Buffer.from(v, "latin1");
  const utf8 = bytes.toString("utf8");
  return Buffer.from(utf8).equals(bytes) ? utf8 : v;
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
