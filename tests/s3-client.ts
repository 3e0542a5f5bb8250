/**
 * S3 clients for tests: the AWS SDK for JavaScript as people use it (default settings,
 * or requestChecksumCalculation WHEN_REQUIRED), recording how it signed each request's
 * body, and what the volumes of a test cluster hold.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { PassThrough } from "node:stream";
import * as assert from "uvu/assert";
import { ownerOf } from "../src/keys/names.ts";
import { startCluster, type Cluster, type ClusterOptions } from "../harness/cluster.ts";
import { S3_KEYS } from "../harness/server-options.ts";

// The SDK warns that its releases after 2026 want Node 22; the tests run on Node 20 on purpose.
process.removeAllListeners("warning");

export type ChecksumMode = "WHEN_SUPPORTED" | "WHEN_REQUIRED";

export interface Sdk {
  client: S3Client;
  /** The x-amz-content-sha256 of every request sent. */
  payloads: string[];
}

export function sdk(endpoint: string, checksums: ChecksumMode = "WHEN_SUPPORTED", keys = S3_KEYS): Sdk {
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
    ...(checksums === "WHEN_REQUIRED" ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
  });
  const payloads: string[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      payloads.push(headers["x-amz-content-sha256"] ?? "");
      return next(args);
    },
    { step: "deserialize", name: "recordPayload" },
  );
  return { client, payloads };
}

/** Runs `fn`, which must fail with the S3 error `code` and HTTP `status`. */
export async function rejects(fn: () => Promise<unknown>, code: string, status: number): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, S3ServiceException, String(e));
    const err = e as S3ServiceException;
    // A HEAD error has no body: the SDK can only name it by its status.
    assert.is(err.$metadata.httpStatusCode, status, `${err.name}: ${err.message}`);
    if (code) assert.is(err.name, code, err.message);
    return;
  }
  assert.unreachable(`expected ${code} (${status})`);
}

/** The names every volume of the cluster holds for `key` (its key itself, or version names of it). */
export async function storedNames(c: Cluster, key: string): Promise<string[][]> {
  return Promise.all(
    c.volumes.map(async (v) => {
      const text = await (await fetch(`http://${v.name}/_kvdb/list`)).text();
      const names = text.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { key: string }).key);
      return names.filter((n) => ownerOf(n) === key);
    }),
  );
}

export async function text(body: { transformToString(): Promise<string> } | undefined): Promise<string> {
  return body ? body.transformToString() : "";
}

/**
 * A PutObject of 256 KiB whose body is held after its first 64 KiB until `finish` is
 * called: for what must happen while a write streams. `put` settles after `finish`.
 */
export function heldPut(client: S3Client, Bucket: string, Key: string): { put: Promise<unknown>; finish: () => void } {
  const first = Buffer.alloc(64 << 10, 1);
  const rest = Buffer.alloc(192 << 10, 2);
  const Body = new PassThrough();
  Body.write(first);
  const put = client.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: first.length + rest.length }));
  put.catch(() => {}); // the caller awaits it
  return { put, finish: () => Body.end(rest) };
}

/** A test cluster serving S3 (`o`: startCluster's options), an SDK client of it, and `bucket` made in it; close() stops all. */
export async function s3Bucket(bucket: string, o: ClusterOptions = {}): Promise<{ c: Cluster; s3: S3Client; close(): Promise<void> }> {
  const c = await startCluster({ ...o, s3: true });
  const s3 = sdk(c.s3!).client;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    c,
    s3,
    async close() {
      s3.destroy();
      await c.close();
    },
  };
}
