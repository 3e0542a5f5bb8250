/**
 * The S3 workload's client (clients.ts Api): PutObject, GetObject and DeleteObject of one
 * bucket through a master's S3 port, signed with SigV4 by the server's own functions
 * (src/s3/sigv4.ts), the body unsigned (UNSIGNED-PAYLOAD), as the AWS SDKs send over
 * TLS. A value's bytes encode its writer: its name (key, client, write number) repeated
 * to a size that varies by write (small ones go in a volume batch, large ones are
 * streamed), so a GET that got a mix of two writes, or part of one, names no write.
 */
import { ALGORITHM, canonicalRequest, signer, signRequest, uriEncode } from "../../src/s3/sigv4.ts";
import { S3_KEYS } from "../server-options.ts";
import type { Recorded } from "../check/history.ts";
import { md5, retried, type Api, type Target } from "./clients.ts";

/** The bucket every key of the run is in (created by prepare()). */
export const BUCKET = "jepsen";
const REGION = "us-east-1";
const UNSIGNED = "UNSIGNED-PAYLOAD";
/** Value sizes, by write: batched (up to 32 KiB) and streamed. */
const SIZES = [100, 9_000, 48_000];

/** The headers of a request signed with the test clusters' S3 keys. */
function signed(method: string, url: URL): Record<string, string> {
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const headers: [string, string][] = [
    ["host", url.host],
    ["x-amz-content-sha256", UNSIGNED],
    ["x-amz-date", amzDate],
  ];
  const signature = signRequest(signer(S3_KEYS.secretKey, amzDate, scope), canonicalRequest(method, url.pathname, "", headers, UNSIGNED));
  const names = headers.map(([n]) => n).join(";");
  return { "x-amz-content-sha256": UNSIGNED, "x-amz-date": amzDate, authorization: `${ALGORITHM} Credential=${S3_KEYS.accessKey}/${scope}, SignedHeaders=${names}, Signature=${signature}` };
}

/** A signed request to `to`'s S3 port: the bucket, or an object (`key`, "/…": the object's name without the slash). */
function call(to: Target, method: string, key: string | undefined, body: string | undefined, signal?: AbortSignal): Promise<Response> {
  const url = new URL(`${to.url()}/${BUCKET}${key === undefined ? "" : `/${uriEncode(key.slice(1), true)}`}`);
  return fetch(url, { method, body, headers: signed(method, url), signal });
}

/** What a body that is no write's value begins and ends with, and its size, for findings. */
function describe(body: Buffer): string {
  const text = body.toString("latin1");
  const id = /^[^;]*;/.exec(text)?.[0] ?? text.slice(0, 60);
  return `md5 ${md5(body)}: ${body.length} bytes, starting ${JSON.stringify(id)}, ending ${JSON.stringify(text.slice(-40))}`;
}

export const S3: Api = {
  lists: false,
  body(value) {
    const id = `${value};`;
    const size = SIZES[parseInt(md5(value).slice(0, 8), 16) % SIZES.length];
    return id.repeat(Math.ceil(size / id.length)).slice(0, size);
  },
  send: (to, f: Recorded["f"], key, value, signal) => call(to, f.toUpperCase(), key, value === undefined ? undefined : S3.body(value), signal),
  async read(f, res, written) {
    const body = Buffer.from(await res.arrayBuffer());
    return f === "get" && res.status === 200 ? written.named(md5(body), () => describe(body)) : undefined;
  },
  readBack: (to, key, written) =>
    retried(async () => {
      const res = await call(to, "GET", key, undefined, AbortSignal.timeout(5000));
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 404) return undefined;
      return res.status === 200 ? written.named(md5(body), () => describe(body)) : "again";
    }),
};

/** Creates the run's bucket through `to`. */
export async function prepare(to: Target): Promise<void> {
  const res = await call(to, "PUT", undefined, undefined);
  if (res.status !== 200) throw new Error(`CreateBucket ${BUCKET}: ${res.status} ${await res.text()}`);
}
