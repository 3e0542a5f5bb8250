/**
 * ListObjectVersions and GetBucketVersioning for kvdb's buckets, which are never
 * versioned: every object has one version, "null", the latest — as S3 answers for a
 * bucket whose versioning was never enabled. Tools list versions to empty a bucket
 * (rclone's purge, ceph/s3-tests' cleanup); PutBucketVersioning stays NotImplemented
 * (app.ts).
 */
import { listingAsked, listPage, OWNER } from "./listing.ts";
import { etagOf, isoTime } from "./metadata.ts";
import { requireBucket } from "./names.ts";
import type { Req, S3 } from "./s3.ts";
import { el, xmlAnswer } from "./xml.ts";

export async function listObjectVersions(s: S3, r: Req): Promise<Response> {
  const { prefix, delimiter, max, encode } = await listingAsked(s, r, "max-keys");
  const marker = r.params.get("key-marker") ?? "";
  const page = await listPage(s.values, r.bucket, prefix, delimiter, marker, max);
  const versions = page.contents.map(
    ([object, rec]) =>
      `<Version>${el("Key", encode(object))}${el("VersionId", "null")}${el("IsLatest", true)}${el("LastModified", isoTime(rec.time))}` +
      `${el("ETag", etagOf(rec))}${el("Size", rec.size)}${OWNER}${el("StorageClass", "STANDARD")}</Version>`,
  );
  const prefixes = page.prefixes.map((p) => `<CommonPrefixes>${el("Prefix", encode(p))}</CommonPrefixes>`);
  const body =
    el("Name", r.bucket) +
    el("Prefix", encode(prefix)) +
    el("KeyMarker", encode(marker)) +
    el("VersionIdMarker", r.params.get("version-id-marker") ?? "") +
    el("MaxKeys", max) +
    (delimiter ? el("Delimiter", encode(delimiter)) : "") +
    el("IsTruncated", page.truncated) +
    (page.truncated ? el("NextKeyMarker", encode(page.last!)) + el("NextVersionIdMarker", "null") : "") +
    (r.params.has("encoding-type") ? el("EncodingType", "url") : "") +
    versions.join("") +
    prefixes.join("");
  return xmlAnswer(r.c, "ListVersionsResult", body);
}

/** A bucket whose versioning was never enabled: an empty configuration (no Status). */
export async function getBucketVersioning(s: S3, r: Req): Promise<Response> {
  await requireBucket(s.values, r.bucket);
  return xmlAnswer(r.c, "VersioningConfiguration", "");
}
