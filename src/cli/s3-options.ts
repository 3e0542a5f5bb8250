/**
 * The S3 options of `master` and `server`: --s3-port, --s3-access-key, --s3-secret-key,
 * --s3-upload-ttl (env KVDB_S3_PORT, KVDB_S3_ACCESS_KEY, KVDB_S3_SECRET_KEY,
 * KVDB_S3_UPLOAD_TTL). A master serves S3 only when given a port, and then needs both
 * keys (no anonymous access); `server` serves it on 9000 by default, with keys made up
 * (and printed on its start line) when none are given.
 */
import { randomBytes } from "node:crypto";
import process from "node:process";
import type { S3Settings } from "../s3/start.ts";
import { integer, UsageError } from "./options.ts";

const env = process.env;

/** cac's parsed options; it names --s3-access-key "s3-accessKey" (no camel case after a digit). */
export type S3Flags = Record<string, unknown>;

/** The value of --`name` however cac spelled it. */
function flagOf(o: S3Flags, name: string): unknown {
  const bare = name.replace(/-/g, "").toLowerCase();
  return Object.entries(o).find(([k]) => k.replace(/-/g, "").toLowerCase() === bare)?.[1];
}

export const S3_HELP = {
  port: "Serve the S3 API on this port (env KVDB_S3_PORT)",
  serverPort: "S3 API port (env KVDB_S3_PORT, default 9000; a free one with --port 0)",
  accessKey: "S3 access key id (env KVDB_S3_ACCESS_KEY)",
  secretKey: "S3 secret access key (env KVDB_S3_SECRET_KEY)",
  uploadTtl: "Seconds before an S3 multipart upload neither completed nor aborted is removed with its parts (env KVDB_S3_UPLOAD_TTL, default 86400)",
};

function key(name: string, value: unknown, envValue: string | undefined): string | undefined {
  const v = value ?? envValue;
  if (v === undefined || v === "") return undefined;
  // cac turns an all-digit value into a number: take it as the text it was.
  if (typeof v !== "string" && typeof v !== "number") throw new UsageError(`${name} must be given once, as text`);
  return String(v);
}

/**
 * The S3 settings, or undefined when S3 is off. `serverPort`: `server`'s default port
 * (S3 is always on there, and missing keys are made up).
 */
export function s3Settings(o: S3Flags, serverPort?: number): S3Settings | undefined {
  const given = flagOf(o, "s3-port") ?? env.KVDB_S3_PORT;
  if ((given === undefined || given === "") && serverPort === undefined) return undefined;
  const port = integer("s3-port", given ?? serverPort, 0, 65535);
  let accessKey = key("s3-access-key", flagOf(o, "s3-access-key"), env.KVDB_S3_ACCESS_KEY);
  let secretKey = key("s3-secret-key", flagOf(o, "s3-secret-key"), env.KVDB_S3_SECRET_KEY);
  // Not a flag: how often a long CompleteMultipartUpload sends a space (s3/keep-alive.ts); docs/S3.md lists it.
  const keepAlive = env.KVDB_S3_KEEPALIVE_MS;
  const keepAliveMs = keepAlive === undefined || keepAlive === "" ? undefined : integer("KVDB_S3_KEEPALIVE_MS", keepAlive, 10, 600_000);
  // Not a flag either: the length of a lifecycle rule's day, for tests (s3/lifecycle-run.ts); docs/S3.md lists it.
  const day = env.KVDB_LIFECYCLE_DAY_MS;
  const lifecycleDayMs = day === undefined || day === "" ? undefined : integer("KVDB_LIFECYCLE_DAY_MS", day, 100, 86_400_000);
  const uploadTtlMs = 1000 * integer("s3-upload-ttl", flagOf(o, "s3-upload-ttl") ?? env.KVDB_S3_UPLOAD_TTL ?? 86400, 1, 365 * 86400);
  if (serverPort === undefined && (!accessKey || !secretKey)) {
    throw new UsageError("--s3-port needs --s3-access-key and --s3-secret-key (or KVDB_S3_ACCESS_KEY, KVDB_S3_SECRET_KEY): S3 has no anonymous access");
  }
  const madeUp = !secretKey;
  accessKey ??= `KVDB${randomBytes(8).toString("hex").toUpperCase()}`;
  secretKey ??= randomBytes(30).toString("base64url");
  return { port, accessKey, secretKey, uploadTtlMs, keepAliveMs, lifecycleDayMs, madeUp };
}
