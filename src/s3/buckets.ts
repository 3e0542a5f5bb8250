/** ListBuckets, CreateBucket, HeadBucket, DeleteBucket (only when empty), GetBucketLocation. */
import { abortUploadsOf } from "./multipart.ts";
import { smallBody } from "./body.ts";
import { S3Error } from "./errors.ts";
import { reaches } from "./keys.ts";
import { maxOf, OWNER } from "./listing.ts";
import { isoTime } from "./metadata.ts";
import { bucketOf, bucketPrefix, checkBucketName, requireBucket, type Bucket } from "./names.ts";
import type { Req, S3 } from "./s3.ts";
import { rootOf, textOf } from "./xml-read.ts";
import { el, escapeXml, xmlAnswer } from "./xml.ts";

/** S3 lists at most this many buckets a page. */
const MAX_BUCKETS = 10_000;

/** No LocationConstraint is us-east-1's. */
const isUsEast1 = (region: string) => region === "" || region === "us-east-1";

/** Buckets are created and deleted one at a time under this lock (keys never start with a space). */
const BUCKETS_LOCK = " buckets";

/** ListBuckets: every bucket the key reaches (keys.ts), or `max-buckets` at a time (continuation-token: after which name), of those starting with `prefix`. */
export async function listBuckets(s: S3, r: Req): Promise<Response> {
  const max = r.params.has("max-buckets") ? maxOf(r, "max-buckets", MAX_BUCKETS) : Infinity;
  if (max === 0) throw new S3Error("InvalidArgument", "max-buckets must be from 1 to 10000");
  const prefix = r.params.get("prefix") ?? "";
  const token = r.params.get("continuation-token");
  const after = token === undefined ? "" : Buffer.from(token, "base64url").toString("utf8");
  let body = "";
  let count = 0;
  let last = "";
  let next: string | undefined;
  for await (const [name, b] of s.values.tables.entries<Bucket>("buckets", after ? `${after}\0` : prefix)) {
    if (!name.startsWith(prefix)) {
      if (name > prefix) break;
      continue;
    }
    if (!reaches(r.grants, name)) continue;
    if (count === max) {
      next = Buffer.from(last).toString("base64url");
      break;
    }
    body += `<Bucket>${el("Name", name)}${el("CreationDate", isoTime(b.created))}</Bucket>`;
    last = name;
    count++;
  }
  const more = (next !== undefined ? el("ContinuationToken", next) : "") + (r.params.has("prefix") ? el("Prefix", prefix) : "");
  return xmlAnswer(r.c, "ListAllMyBucketsResult", `${OWNER}<Buckets>${body}</Buckets>${more}`);
}

/** Runs `fn` holding the buckets' lock (waiting for it a little). */
export async function holdingBuckets(s: S3, fn: () => Promise<void>): Promise<void> {
  if (!(await s.values.locks.holdWhenFree(BUCKETS_LOCK, fn))) throw new S3Error("OperationAborted");
}

export async function createBucket(s: S3, r: Req): Promise<Response> {
  checkBucketName(r.bucket);
  const body = await smallBody(r.c, r.payload);
  const region = body.trim() ? (textOf(rootOf(body, "CreateBucketConfiguration"), "LocationConstraint") ?? "") : "";
  await holdingBuckets(s, async () => {
    const existing = await bucketOf(s.values, r.bucket);
    // S3 in us-east-1 answers 200 to a creation of a bucket one owns already; elsewhere, 409.
    if (existing && !(isUsEast1(existing.region) && isUsEast1(region))) throw new S3Error("BucketAlreadyOwnedByYou");
    if (existing) return;
    await s.values.tables.put("buckets", r.bucket, { created: Date.now(), region } satisfies Bucket);
  });
  return r.c.body(null, 200, { location: `/${r.bucket}`, "content-length": "0" });
}

export async function headBucket(s: S3, r: Req): Promise<Response> {
  const bucket = await requireBucket(s.values, r.bucket);
  return r.c.body(null, 200, { "x-amz-bucket-region": bucket.region || "us-east-1" });
}

export async function getBucketLocation(s: S3, r: Req): Promise<Response> {
  const bucket = await requireBucket(s.values, r.bucket);
  return xmlAnswer(r.c, "LocationConstraint", escapeXml(bucket.region));
}

/** Whether any key is stored under the bucket (live or not: an unlinked key still holds bytes). */
async function holdsKeys(s: S3, bucket: string): Promise<boolean> {
  for await (const [key] of s.values.scan(bucketPrefix(bucket))) return key.startsWith(bucketPrefix(bucket));
  return false;
}

export async function deleteBucket(s: S3, r: Req): Promise<Response> {
  await holdingBuckets(s, async () => {
    await requireBucket(s.values, r.bucket);
    if (await holdsKeys(s, r.bucket)) throw new S3Error("BucketNotEmpty");
    await abortUploadsOf(s, r.bucket);
    // Checked again in one index step with the delete: an object write on another master
    // becomes visible only while its bucket exists (Index.replace within the bucket).
    const deleted = await s.values.tables.deleteIfNoKeys("buckets", r.bucket, bucketPrefix(r.bucket));
    if (deleted === "keys") throw new S3Error("BucketNotEmpty");
    if (deleted === "absent") throw new S3Error("NoSuchBucket");
  });
  return r.c.body(null, 204);
}
