/**
 * GetObjectAttributes (GET /bucket/key?attributes): what HeadObject and ListParts tell
 * of an object, in one XML answer, as S3 documents it: the attributes named in
 * x-amz-object-attributes (ETag, Checksum, ObjectParts, StorageClass, ObjectSize); the
 * parts of a multipart object page with x-amz-max-parts and x-amz-part-number-marker.
 * The parts are listed with their sizes whether or not they have checksums (as S3's
 * directory buckets and radosgw list them; its general purpose buckets only with
 * checksums).
 */
import type { KeyRecord } from "../master/values.ts";
import { elementOf, keptOf, partChecksumOf } from "./checksums.ts";
import { S3Error } from "./errors.ts";
import { lastModified, MAX_PART_NUMBER, partRange, partsCount } from "./metadata.ts";
import { liveRecord } from "./objects.ts";
import type { Req, S3 } from "./s3.ts";
import { el, xmlAnswer } from "./xml.ts";

const ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
/** S3's default and largest page of parts. */
const MAX_PARTS = 1000;

/** A part-count header's value: an integer from 0 to `most`; InvalidArgument otherwise. */
function numberHeader(r: Req, name: string, fallback: number, most: number): number {
  const v = r.c.req.header(name);
  if (v === undefined) return fallback;
  if (!/^\d{1,10}$/.test(v.trim())) throw new S3Error("InvalidArgument", `${name} must be a non-negative integer`);
  return Math.min(Number(v), most);
}

/** The <ObjectParts> of a multipart object, the page after `marker`. */
function objectParts(record: KeyRecord, count: number, marker: number, max: number): string {
  let parts = "";
  let last = marker;
  for (let n = marker + 1; n <= count && n <= marker + max; n++) {
    const range = partRange(record, n);
    const sum = partChecksumOf(record, n);
    parts += `<Part>${el("PartNumber", n)}${el("Size", range ? range.end - range.start + 1 : undefined)}${sum ? el(elementOf(sum.algorithm), sum.value) : ""}</Part>`;
    last = n;
  }
  const truncated = last < count;
  return (
    `<ObjectParts>${el("PartsCount", count)}${el("PartNumberMarker", marker)}` +
    (truncated ? el("NextPartNumberMarker", last) : "") +
    `${el("MaxParts", max)}${el("IsTruncated", truncated)}${parts}</ObjectParts>`
  );
}

export async function getObjectAttributes(s: S3, r: Req): Promise<Response> {
  const asked = (r.c.req.header("x-amz-object-attributes") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  if (!asked.length) throw new S3Error("InvalidArgument", "x-amz-object-attributes names the attributes to answer (ETag, Checksum, ObjectParts, StorageClass, ObjectSize)");
  const unknown = asked.find((a) => !ATTRIBUTES.includes(a));
  if (unknown) throw new S3Error("InvalidArgument", `Invalid attribute name specified: ${unknown}`);
  const max = numberHeader(r, "x-amz-max-parts", MAX_PARTS, MAX_PARTS);
  const marker = numberHeader(r, "x-amz-part-number-marker", 0, MAX_PART_NUMBER);
  const { record } = await liveRecord(s.values, r.bucket, r.object);
  const want = new Set(asked);
  const kept = keptOf(record);
  const count = partsCount(record);
  let body = "";
  if (want.has("ETag")) body += el("ETag", record.s3?.etag ?? record.md5);
  if (want.has("Checksum") && kept) body += `<Checksum>${el(elementOf(kept.algorithm), kept.value)}${el("ChecksumType", kept.type)}</Checksum>`;
  if (want.has("ObjectParts") && count !== undefined) body += objectParts(record, count, marker, max);
  if (want.has("StorageClass")) body += el("StorageClass", "STANDARD");
  if (want.has("ObjectSize")) body += el("ObjectSize", record.size);
  r.c.header("last-modified", lastModified(record));
  return xmlAnswer(r.c, "GetObjectAttributesResponse", body);
}
