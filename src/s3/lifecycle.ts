/**
 * PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration, DeleteBucketLifecycle:
 * the configuration (lifecycle-config.ts) is kept in the bucket's entry of the index,
 * changed under the buckets' lock as CreateBucket and DeleteBucket change it. The rules
 * are carried out by the master's lifecycle job (lifecycle-run.ts).
 */
import { smallBody } from "./body.ts";
import { holdingBuckets } from "./buckets.ts";
import { S3Error } from "./errors.ts";
import { lifecycleXml, readLifecycle, type LifecycleRule } from "./lifecycle-config.ts";
import { requireBucket, type Bucket } from "./names.ts";
import type { Req, S3 } from "./s3.ts";
import { xmlAnswer } from "./xml.ts";

/** Sets (or, with undefined, removes) the bucket's rules; NoSuchBucket if it is gone. */
async function setRules(s: S3, name: string, rules: LifecycleRule[] | undefined): Promise<void> {
  await holdingBuckets(s, async () => {
    const { lifecycle: _, ...bucket } = await requireBucket(s.values, name);
    await s.values.tables.put("buckets", name, (rules ? { ...bucket, lifecycle: rules } : bucket) satisfies Bucket);
  });
}

export async function putBucketLifecycle(s: S3, r: Req): Promise<Response> {
  await requireBucket(s.values, r.bucket);
  const rules = readLifecycle(await smallBody(r.c, r.payload));
  await setRules(s, r.bucket, rules);
  return r.c.body(null, 200, { "content-length": "0" });
}

export async function getBucketLifecycle(s: S3, r: Req): Promise<Response> {
  const { lifecycle } = await requireBucket(s.values, r.bucket);
  if (!lifecycle?.length) throw new S3Error("NoSuchLifecycleConfiguration", `bucket ${JSON.stringify(r.bucket)} has no lifecycle configuration`);
  return xmlAnswer(r.c, "LifecycleConfiguration", lifecycleXml(lifecycle));
}

/** 204, also when there was none (as S3 answers). */
export async function deleteBucketLifecycle(s: S3, r: Req): Promise<Response> {
  await setRules(s, r.bucket, undefined);
  return r.c.body(null, 204);
}
