/**
 * The S3 API's Hono app, served on its own port (--s3-port), path-style:
 * http://host:port/bucket/key. Every request is authenticated (auth.ts), then routed by
 * method, path and subresource to one operation. What S3 has and kvdb does not
 * (versioning, ACLs, policies, tagging, encryption…) answers NotImplemented.
 */
import { randomBytes } from "node:crypto";
import { Hono, type Context } from "hono";
import { requestLog, serverErrors } from "../observe/log.ts";
import { getObjectAttributes } from "./attributes.ts";
import { authenticate, Refused, target, type Payload } from "./auth.ts";
import type { Grant } from "../auth/keys.ts";
import { accessKeyIdOf, checkGrants } from "./keys.ts";
import { bucketOf } from "./names.ts";
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from "./buckets.ts";
import { noConditions } from "./conditions.ts";
import { copyObject, uploadPartCopy } from "./copy.ts";
import { deleteObjects } from "./delete-objects.ts";
import { renderS3Error, S3Error } from "./errors.ts";
import { deleteBucketLifecycle, getBucketLifecycle, putBucketLifecycle } from "./lifecycle.ts";
import { listObjectsV1, listObjectsV2 } from "./listing.ts";
import { listParts, listUploads } from "./multipart-list.ts";
import { abortUpload, completeUpload, createUpload, uploadPart } from "./multipart.ts";
import { deleteObject, getObject, putObject } from "./objects.ts";
import { getBucketVersioning, listObjectVersions } from "./versions.ts";
import type { Req, S3 } from "./s3.ts";
import { queryPairs } from "./sigv4.ts";
import { getObjectTagging } from "./tagging.ts";

type Operation = (s: S3, r: Req) => Promise<Response>;

/** The operations that change something and honour conditional headers (conditions.ts); the others refuse them. */
const CONDITIONAL = new Set<Operation>([putObject, copyObject, completeUpload, deleteObject]);

/** Subresources of S3 that kvdb does not have. */
const UNSUPPORTED = new Set(
  (
    "acl policy policyStatus versioning versions tagging cors lifecycle encryption replication website logging notification " +
    "object-lock publicAccessBlock ownershipControls accelerate requestPayment analytics metrics inventory intelligent-tiering " +
    "retention legal-hold torrent restore select"
  ).split(" "),
);

/** Of those, the ones a bucket has after all: an unversioned bucket's versions to GET (versions.ts), and its lifecycle (lifecycle.ts). */
const bucketHas = (sub: string, method: string) => sub === "lifecycle" || (method === "GET" && (sub === "versioning" || sub === "versions"));

/** Request headers that ask for what kvdb does not have. */
function unsupportedHeader(header: (name: string) => string | undefined, names: string[]): string | undefined {
  const acl = header("x-amz-acl");
  if (acl !== undefined && acl !== "private") return "x-amz-acl";
  return names.find((n) => /^x-amz-(server-side-encryption|grant-|object-lock-|tagging$|website-redirect-location$)/.test(n));
}

function bucketOperation(method: string, params: Map<string, string>): Operation | undefined {
  switch (method) {
    case "GET":
      if (params.has("lifecycle")) return getBucketLifecycle;
      if (params.has("location")) return getBucketLocation;
      if (params.has("uploads")) return listUploads;
      if (params.has("versions")) return listObjectVersions;
      if (params.has("versioning")) return getBucketVersioning;
      return params.get("list-type") === "2" ? listObjectsV2 : listObjectsV1;
    case "HEAD":
      return headBucket;
    case "PUT":
      return params.has("lifecycle") ? putBucketLifecycle : createBucket;
    case "DELETE":
      return params.has("lifecycle") ? deleteBucketLifecycle : deleteBucket;
    case "POST":
      return params.has("delete") ? deleteObjects : undefined;
  }
}

function objectOperation(method: string, params: Map<string, string>, copy: boolean): Operation | undefined {
  switch (method) {
    case "GET":
      if (params.has("attributes")) return getObjectAttributes;
      return params.has("uploadId") ? listParts : getObject;
    case "HEAD":
      return getObject;
    case "PUT":
      if (params.has("uploadId")) return copy ? uploadPartCopy : uploadPart;
      return copy ? copyObject : putObject;
    case "DELETE":
      return params.has("uploadId") ? abortUpload : deleteObject;
    case "POST":
      if (params.has("uploads")) return createUpload;
      return params.has("uploadId") ? completeUpload : undefined;
  }
}

/** The request's bucket and object key from its path, decoded. */
function namesOf(path: string): { bucket: string; object: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new S3Error("InvalidURI", "Couldn't parse the specified URI.");
  }
  const slash = decoded.indexOf("/", 1);
  return slash < 0 ? { bucket: decoded.slice(1), object: "" } : { bucket: decoded.slice(1, slash), object: decoded.slice(slash + 1) };
}

/** The request's signature and grants checked, or throws S3's error; a refusal is counted and logged (auth/failures.ts). */
async function door(s: S3, c: Context): Promise<{ payload: Payload; bucket: string; object: string; grants?: Grant[] }> {
  let names: { bucket: string; object: string } | undefined;
  try {
    const { creds, grants } = s.keys ? await s.keys.lookup(c) : { creds: s.creds, grants: undefined };
    const payload = authenticate(c, creds);
    names = namesOf(target(c).path);
    checkGrants(grants, c.req.method, names.bucket, names.object);
    return { payload, ...names, grants };
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    s.failures?.refused("s3", e.reason, e.message, accessKeyIdOf(c));
    // Bucket names are one namespace: creating one that exists, without a grant on it, is S3's answer to another owner's bucket.
    const creating = e.reason === "no-grant" && c.req.method === "PUT" && names?.bucket && !names.object && !target(c).query;
    if (creating && (await bucketOf(s.values, names!.bucket))) throw new S3Error("BucketAlreadyExists");
    throw e;
  }
}

export function s3App(s: S3, verbose: boolean): Hono {
  const app = new Hono();
  // Like the master's own port (http/server-app.ts): every 5xx logged. Its requests are
  // counted by the runtime adapter (start.ts).
  app.use(serverErrors("s3"));
  if (verbose) app.use(requestLog("s3"));
  app.all("*", async (c) => {
    c.header("x-amz-request-id", randomBytes(8).toString("hex").toUpperCase());
    const { payload, bucket, object, grants } = await door(s, c);
    const params = new Map<string, string>();
    for (const [name, value] of queryPairs(target(c).query).reverse()) params.set(name, value);
    const r: Req = { c, payload, bucket, object, grants, params };
    const method = c.req.method;
    // Every object has one version, "null" (versions.ts): another is not one kvdb could answer for, nor delete.
    const version = params.get("versionId");
    if (version !== undefined && version !== "null") throw new S3Error("NotImplemented", "versions are not supported by kvdb: the only versionId is null");
    // An object's tags can be read (there are none: tagging.ts), not written.
    if (method === "GET" && object && params.has("tagging") && !params.has("versionId")) return getObjectTagging(s, r);
    const sub = [...params.keys()].find((p) => UNSUPPORTED.has(p) && !(bucket && !object && bucketHas(p, method)));
    if (sub) throw new S3Error("NotImplemented", `?${sub} is not supported by kvdb`);
    const header = unsupportedHeader((n) => c.req.header(n), Object.keys(c.req.header()));
    if (header && (method === "PUT" || method === "POST")) throw new S3Error("NotImplemented", `${header} is not supported by kvdb`);
    const copy = c.req.header("x-amz-copy-source") !== undefined;
    const operation = !bucket ? (method === "GET" ? listBuckets : undefined) : !object ? bucketOperation(method, params) : objectOperation(method, params, copy);
    if (!operation) throw new S3Error(method === "PUT" && copy ? "NotImplemented" : "MethodNotAllowed", `${method} is not supported here`);
    if (method !== "GET" && method !== "HEAD" && !CONDITIONAL.has(operation)) noConditions((n) => c.req.header(n), operation.name);
    return operation(s, r);
  });
  app.onError(renderS3Error);
  return app;
}
