/**
 * The keys S3 accepts (issue 26): the configured pair (--s3-access-key), which may do
 * everything, and the client keys in the index (auth/key-store.ts), each limited to its
 * grants: read on GET and HEAD, write otherwise, on `bucket/object` (a grant on
 * `bucket/` covers the bucket), and read on a copy's source. ListBuckets answers every
 * key, with the buckets its grants reach (as S3 lists the buckets one owns).
 */
import type { Context } from "hono";
import type { KeyStore } from "../auth/key-store.ts";
import { allows, type Grant } from "../auth/keys.ts";
import { Refused, type Credentials } from "./auth.ts";

/** The access key id a request names: its Authorization's Credential, or a presigned URL's. */
export function accessKeyIdOf(c: Context): string | undefined {
  const signed = /Credential=([^/,\s]+)\//.exec(c.req.header("authorization") ?? "");
  return signed ? signed[1] : c.req.query("X-Amz-Credential")?.split("/")[0];
}

export class S3Keys {
  constructor(
    private readonly pair: Credentials,
    private readonly store: KeyStore,
  ) {}

  /**
   * What to check the request's signature against, and a stored key's grants. An
   * unknown id gets the pair, whose check answers InvalidAccessKeyId (auth.ts).
   */
  async lookup(c: Context): Promise<{ creds: Credentials; grants?: Grant[] }> {
    const id = accessKeyIdOf(c);
    if (id === undefined || id === this.pair.accessKey) return { creds: this.pair };
    const key = await this.store.get(id);
    return key ? { creds: { accessKey: id, secretKey: key.secret }, grants: key.grants } : { creds: this.pair };
  }
}

/** Throws AccessDenied unless `grants` (a stored key's; undefined: the configured pair) allow the request. */
export function checkGrants(grants: readonly Grant[] | undefined, method: string, bucket: string, object: string): void {
  if (!grants || (!bucket && method === "GET")) return; // ListBuckets: filtered by reaches
  const level = method === "GET" || method === "HEAD" ? "read" : "write";
  if (!allows(grants, level, bucket ? `${bucket}/${object}` : undefined)) {
    throw new Refused("AccessDenied", "no-grant", `this key has no ${level} grant on ${bucket ? `${bucket}/${object}` : "every bucket"}`);
  }
}

/** Whether `grants` (undefined: the configured pair) reach any key of `bucket`: ListBuckets lists it. */
export function reaches(grants: readonly Grant[] | undefined, bucket: string): boolean {
  const keys = `${bucket}/`;
  return !grants || allows(grants, "read", keys) || grants.some((g) => g.prefix?.startsWith(keys) && allows([g], "read", g.prefix));
}
