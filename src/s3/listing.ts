/**
 * ListObjectsV2 (?list-type=2) and ListObjects (v1): the live keys under /bucket/, in
 * the index's order (UTF-8 bytes, as S3 lists), streamed from the index a page at a time.
 * With a delimiter, keys that share a prefix up to it roll up into one CommonPrefix,
 * and the scan jumps past them instead of reading them all.
 */
import type { KeyRecord, Values } from "../master/values.ts";
import { S3Error } from "./errors.ts";
import { etagOf, isoTime } from "./metadata.ts";
import { bucketPrefix, requireBucket } from "./names.ts";
import type { Req, S3 } from "./s3.ts";
import { uriEncode } from "./sigv4.ts";
import { el, xmlAnswer } from "./xml.ts";

const MAX_KEYS = 1000;
export const OWNER = `<Owner>${el("ID", "kvdb")}${el("DisplayName", "kvdb")}</Owner>`;

interface Page {
  contents: [string, KeyRecord][];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix of the page: a listing continues after it. */
  last?: string;
}

/** a ≤ b in the index's order (UTF-8 bytes; JS's own < compares UTF-16 units, which differs past U+FFFF). */
const notAfter = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0;

/** The smallest string after every string that starts with `prefix`. */
export function pastPrefix(prefix: string): string {
  const cp = prefix.codePointAt(prefix.length - 1)!;
  const width = cp > 0xffff ? 2 : 1;
  return prefix.slice(0, -width) + String.fromCodePoint(cp + 1);
}

/** One page of at most `max` keys and common prefixes under `prefix`, after `after` (exclusive; "" for the start). */
export async function listPage(values: Values, bucket: string, prefix: string, delimiter: string, after: string, max: number): Promise<Page> {
  const base = bucketPrefix(bucket);
  const page: Page = { contents: [], prefixes: [], truncated: false };
  if (max === 0) return page;
  let from = base + (notAfter(after, prefix) ? prefix : after);
  for (;;) {
    let jump: string | undefined;
    for await (const [key, record] of values.scan(from)) {
      if (!key.startsWith(base + prefix)) return page;
      if (record.state !== "live") continue;
      const object = key.slice(base.length);
      const cut = delimiter ? object.indexOf(delimiter, prefix.length) : -1;
      const item = cut < 0 ? object : object.slice(0, cut + delimiter.length);
      if (notAfter(item, after)) {
        if (cut < 0) continue;
        jump = pastPrefix(item); // a common prefix already listed
        break;
      }
      if (page.contents.length + page.prefixes.length === max) {
        page.truncated = true;
        return page;
      }
      page.last = item;
      if (cut < 0) {
        page.contents.push([object, record]);
        continue;
      }
      page.prefixes.push(item);
      jump = pastPrefix(item);
      break;
    }
    if (jump === undefined) return page;
    from = base + jump;
  }
}

/** max-keys (or max-uploads…): `most` (1000) by default, and at most. */
export function maxOf(r: Req, name: string, most = MAX_KEYS): number {
  const v = r.params.get(name);
  if (v === undefined) return most;
  if (!/^\d{1,10}$/.test(v)) throw new S3Error("InvalidArgument", `${name} must be a non-negative integer`);
  return Math.min(Number(v), most);
}

function contents(page: Page, encode: (s: string) => string, owner: boolean): string {
  const keys = page.contents.map(
    ([object, r]) =>
      `<Contents>${el("Key", encode(object))}${el("LastModified", isoTime(r.time))}${el("ETag", etagOf(r))}${el("Size", r.size)}` +
      `${owner ? OWNER : ""}${el("StorageClass", "STANDARD")}</Contents>`,
  );
  const prefixes = page.prefixes.map((p) => `<CommonPrefixes>${el("Prefix", encode(p))}</CommonPrefixes>`);
  return keys.join("") + prefixes.join("");
}

function encoder(r: Req): (s: string) => string {
  const type = r.params.get("encoding-type");
  if (type === undefined) return (s) => s;
  if (type !== "url") throw new S3Error("InvalidArgument", "encoding-type must be url");
  return (s) => uriEncode(s, true);
}

/** What every listing asks: the prefix, the delimiter, how many (`maxName`), and how names are to be encoded. */
export async function listingAsked(s: S3, r: Req, maxName: string) {
  await requireBucket(s.values, r.bucket);
  return { prefix: r.params.get("prefix") ?? "", delimiter: r.params.get("delimiter") ?? "", max: maxOf(r, maxName), encode: encoder(r) };
}

export async function listObjectsV2(s: S3, r: Req): Promise<Response> {
  const { prefix, delimiter, max, encode } = await listingAsked(s, r, "max-keys");
  const startAfter = r.params.get("start-after") ?? "";
  const token = r.params.get("continuation-token");
  const after = token === undefined ? startAfter : Buffer.from(token, "base64url").toString("utf8");
  const page = await listPage(s.values, r.bucket, prefix, delimiter, after, max);
  const body =
    el("Name", r.bucket) +
    el("Prefix", encode(prefix)) +
    (delimiter ? el("Delimiter", encode(delimiter)) : "") +
    el("MaxKeys", max) +
    el("KeyCount", page.contents.length + page.prefixes.length) +
    el("IsTruncated", page.truncated) +
    (token !== undefined ? el("ContinuationToken", token) : "") +
    (page.truncated ? el("NextContinuationToken", Buffer.from(page.last!).toString("base64url")) : "") +
    (startAfter ? el("StartAfter", encode(startAfter)) : "") +
    (r.params.has("encoding-type") ? el("EncodingType", "url") : "") +
    contents(page, encode, r.params.get("fetch-owner") === "true");
  return xmlAnswer(r.c, "ListBucketResult", body);
}

export async function listObjectsV1(s: S3, r: Req): Promise<Response> {
  const { prefix, delimiter, max, encode } = await listingAsked(s, r, "max-keys");
  const marker = r.params.get("marker") ?? "";
  const page = await listPage(s.values, r.bucket, prefix, delimiter, marker, max);
  const body =
    el("Name", r.bucket) +
    // v1's own Prefix is never url-encoded by S3 (clients decode it only in v2's answer).
    el("Prefix", prefix) +
    el("Marker", encode(marker)) +
    el("MaxKeys", max) +
    (delimiter ? el("Delimiter", encode(delimiter)) : "") +
    el("IsTruncated", page.truncated) +
    // S3 names the next marker only with a delimiter; without one, clients go on from the last key.
    (page.truncated && delimiter ? el("NextMarker", encode(page.last!)) : "") +
    (r.params.has("encoding-type") ? el("EncodingType", "url") : "") +
    contents(page, encode, true);
  return xmlAnswer(r.c, "ListBucketResult", body);
}
