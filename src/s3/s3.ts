/** What every S3 handler works with: the master it fronts (through its values API), and the request as S3 sees it. */
import type { S3Keys } from "./keys.ts";
import type { Grant } from "../auth/keys.ts";
import type { AuthFailures } from "../auth/failures.ts";
import type { Context } from "hono";
import type { Values } from "../master/values.ts";
import type { Credentials, Payload } from "./auth.ts";

export interface S3 {
  /** The master's values API (master/values.ts): all S3 asks of the master. */
  values: Values;
  creds: Credentials;
  /** The client keys in the index besides `creds` (keys.ts); absent: `creds` only. */
  keys?: S3Keys;
  /** Where refusals are counted: the master's kvdb_auth_failures_total (auth/failures.ts). */
  failures?: AuthFailures;
  /** Multipart uploads not completed or aborted within this are removed with their parts. */
  uploadTtlMs: number;
  /** How often a long CompleteMultipartUpload sends a space to keep its connection alive (keep-alive.ts). */
  keepAliveMs: number;
  /** How long a day of the lifecycle rules lasts (lifecycle-run.ts): a day, or less in tests. */
  lifecycleDayMs: number;
}

export interface Req {
  c: Context;
  /** What the signature promised of the body. */
  payload: Payload;
  /** Empty for the service (ListBuckets). */
  bucket: string;
  /** The object key, decoded; empty for bucket requests. */
  object: string;
  /** The grants of the stored key that signed the request (keys.ts); undefined: the configured pair, which may do everything. */
  grants?: readonly Grant[];
  /** The query's parameters, decoded (a parameter given twice: its first value). */
  params: Map<string, string>;
}
