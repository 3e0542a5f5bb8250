/**
 * SigV4 on the curl API (issue 26, item 3: "a SigV4 signature for tools that already
 * sign", such as `curl --aws-sigv4` or a presigned URL made by an AWS SDK), checked by
 * S3's own verifier (auth.ts) against the client key the request names. The master gets
 * it from the composition root (src/server.ts), so master/ imports nothing of s3/.
 */
import type { Context } from "hono";
import { NO_SECRET, type SignedCheck } from "../auth/access.ts";
import type { KeyStore } from "../auth/key-store.ts";
import { authenticate, Refused } from "./auth.ts";
import { accessKeyIdOf } from "./keys.ts";
import { EMPTY_SHA256 } from "./sigv4.ts";

/**
 * A body is checked as it streams by its md5 (Content-MD5), not by a signed hash: a PUT or
 * POST signs it UNSIGNED-PAYLOAD, or sends no x-amz-content-sha256 (curl 7's --aws-sigv4,
 * whose signature then covers the empty body's hash: the body is unsigned alike).
 */
const BODY_HASH = "sign a PUT or POST body as UNSIGNED-PAYLOAD (x-amz-content-sha256), and send Content-MD5 to have it checked: the curl API checks no signed body hash";

export const checkSigV4: SignedCheck = async (c: Context, store: KeyStore) => {
  const id = accessKeyIdOf(c) ?? "";
  const key = id ? await store.get(id) : undefined;
  try {
    const payload = authenticate(c, { accessKey: id, secretKey: key?.secret ?? NO_SECRET }, Date.now(), EMPTY_SHA256);
    if (!key) return { id, reason: "unknown-key" };
    const body = c.req.method === "PUT" || c.req.method === "POST";
    if (body && payload.kind !== "unsigned" && c.req.header("x-amz-content-sha256") !== undefined) return { id, reason: "malformed", message: BODY_HASH };
    return { id, key };
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    return { id, reason: !key && e.reason === "bad-secret" ? "unknown-key" : e.reason, message: e.message };
  }
};
