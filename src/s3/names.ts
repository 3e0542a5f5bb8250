/**
 * S3 names in kvdb: object k of bucket b is the kvdb key /b/k, so a value stored with
 * curl under /photos/cat.jpg is s3://photos/cat.jpg once bucket photos exists, and the
 * other way round. Buckets are recorded in the index (table "buckets").
 */
import { keyError } from "../keys/keys.ts";
import type { Sync, Values, Within } from "../master/values.ts";
import { S3Error } from "./errors.ts";
import type { LifecycleRule } from "./lifecycle-config.ts";

export interface Bucket {
  /** ms since the epoch */
  created: number;
  /** The LocationConstraint it was created with ("" for none). */
  region: string;
  /** Its lifecycle configuration (lifecycle.ts); absent: none (as in every bucket recorded before there was one). */
  lifecycle?: LifecycleRule[];
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Throws InvalidBucketName unless `name` is a bucket name S3 allows. */
export function checkBucketName(name: string): void {
  // Each dot-separated label begins and ends with a letter or digit, as in a DNS name: no "..", ".-" or "-.".
  if (!BUCKET.test(name) || /\.\.|\.-|-\./.test(name) || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new S3Error("InvalidBucketName", `${JSON.stringify(name)} is not a valid bucket name`);
  }
}

export function bucketOf(values: Values, name: string): Sync<Bucket | undefined> {
  return values.tables.get<Bucket>("buckets", name);
}

/** The bucket's record; NoSuchBucket if there is none. */
export async function requireBucket(values: Values, name: string): Promise<Bucket> {
  const bucket = await bucketOf(values, name);
  if (!bucket) throw new S3Error("NoSuchBucket", `bucket ${JSON.stringify(name)} does not exist`);
  return bucket;
}

/** What an object write needs to exist when it becomes visible (Index.replace): its bucket. */
export const inBucket = (bucket: string): Within => ({ table: "buckets", id: bucket });

/** The prefix of every kvdb key in the bucket. */
export const bucketPrefix = (bucket: string) => `/${bucket}/`;

/** The kvdb key of an object; InvalidArgument (or KeyTooLong's 400) if kvdb cannot store that name. */
export function keyOf(bucket: string, object: string): string {
  const key = `${bucketPrefix(bucket)}${object}`;
  const error = object === "" ? "empty object key" : keyError(key);
  if (error) throw new S3Error("InvalidArgument", `object key ${JSON.stringify(object)} cannot be stored: ${error}`);
  return key;
}
