/**
 * Multipart uploads. An upload is an entry of the index's "uploads" table; each part
 * is a value of its own under the internal key /_kvdb/part/<upload id>/<number>,
 * replicated like any value (a part sent again replaces the first). Completing
 * assembles the parts on the volumes into one plain file per replica — never in the
 * master — which replaces the object like any S3 write (master/versions.ts); then the
 * parts are deleted. Uploads neither completed nor aborted are removed after
 * --s3-upload-ttl (expiry.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import { RESERVED_PREFIX } from "../keys/keys.ts";
import { storedName } from "../keys/names.ts";
import type { KeyRecord, Piece, Values } from "../master/values.ts";
import type { ValueFields } from "../keys/fields.ts";
import { smallBody } from "./body.ts";
import { checkObjectChecksum, checkPartChecksum, partChecksum } from "./complete-checksum.ts";
import { askedChecksum, compose, elementOf, withChecksum, withPartChecksums, type Algorithm, type ChecksumType, type Kept } from "./checksums.ts";
import { writeCondition } from "./conditions.ts";
import { S3Error } from "./errors.ts";
import { keptAliveXml } from "./keep-alive.ts";
import { etagOf, fieldsOf, MAX_PART_NUMBER, withParts } from "./metadata.ts";
import { inBucket, keyOf, requireBucket } from "./names.ts";
import { storeBody } from "./objects.ts";
import type { Req, S3 } from "./s3.ts";
import { elements, rootOf, textOf } from "./xml-read.ts";
import { el, xmlAnswer } from "./xml.ts";

/** An upload as the index's "uploads" table keeps it, with the fields the object will have (no etag: made at completion). */
export interface Upload extends ValueFields {
  bucket: string;
  object: string;
  /** ms since the epoch */
  initiated: number;
  /**
   * The quoted ETag of the object it made, once completed: the entry stays (until
   * --s3-upload-ttl, expiry.ts) so that a Complete sent again after a lost answer gets
   * the same answer, as S3 gives it. A completed upload is no upload for anything else.
   */
  completed?: string;
  /** The checksum the completed object got, answered again with that ETag. */
  completedChecksum?: Kept;
  /** The checksum CreateMultipartUpload asked for (checksums.ts), made from the parts' at completion. */
  checksum?: { algorithm: Algorithm; type: ChecksumType };
}

export const PART_PREFIX = `${RESERVED_PREFIX}part/`;
/** Every part but the last must be at least this long (S3's rule). */
const MIN_PART_SIZE = 5 << 20;

/** The internal key of part `n` of an upload; numbers padded so that parts sort in order. */
export const partKey = (id: string, n: number) => `${PART_PREFIX}${id}/${String(n).padStart(5, "0")}`;
/** The lock an upload is held by while it completes or aborts (keys never start with a space). */
export const uploadLock = (id: string) => ` upload ${id}`;

/** The upload named by ?uploadId=, which must be of this bucket and object (and, unless `completed`, not completed); NoSuchUpload otherwise. */
export async function uploadOf(s: S3, r: Req, completed = false): Promise<{ id: string; upload: Upload }> {
  await requireBucket(s.values, r.bucket);
  const id = r.params.get("uploadId") ?? "";
  const upload = /^[\w-]{1,64}$/.test(id) ? await s.values.tables.get<Upload>("uploads", id) : undefined;
  if (!upload || upload.bucket !== r.bucket || upload.object !== r.object || (upload.completed && !completed)) throw new S3Error("NoSuchUpload");
  return { id, upload };
}

/** Every part of an upload, in order. */
export async function* partsOf(values: Values, id: string, after = 0): AsyncGenerator<[number, KeyRecord]> {
  const prefix = `${PART_PREFIX}${id}/`;
  for await (const [key, record] of values.scan(partKey(id, after + 1))) {
    if (!key.startsWith(prefix)) return;
    if (record.state === "live") yield [Number(key.slice(prefix.length)), record];
  }
}

export async function createUpload(s: S3, r: Req): Promise<Response> {
  await requireBucket(s.values, r.bucket);
  keyOf(r.bucket, r.object); // a name kvdb cannot store is refused now, not at the end
  const id = randomBytes(18).toString("base64url");
  const checksum = askedChecksum((n) => r.c.req.header(n));
  await s.values.tables.put("uploads", id, { bucket: r.bucket, object: r.object, initiated: Date.now(), ...fieldsOf(r.c), ...(checksum ? { checksum } : {}) } satisfies Upload);
  if (checksum) {
    r.c.header("x-amz-checksum-algorithm", checksum.algorithm.toUpperCase());
    r.c.header("x-amz-checksum-type", checksum.type);
  }
  return xmlAnswer(r.c, "InitiateMultipartUploadResult", el("Bucket", r.bucket) + el("Key", r.object) + el("UploadId", id));
}

/** The ?partNumber= of UploadPart and UploadPartCopy. */
export function partNumberOf(r: Req): number {
  const n = Number(r.params.get("partNumber"));
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw new S3Error("InvalidArgument", `partNumber must be from 1 to ${MAX_PART_NUMBER}`);
  return n;
}

export async function uploadPart(s: S3, r: Req): Promise<Response> {
  const n = partNumberOf(r);
  const { id } = await uploadOf(s, r);
  return storeBody(s, r, partKey(id, n), {});
}

/** The parts a CompleteMultipartUpload names, in order; a part named twice in a row is its last copy (as S3 takes it). */
function listedParts(doc: string): { n: number; etag: string; checksum?: { element: string; value: string } }[] {
  const listed: { n: number; etag: string; checksum?: { element: string; value: string } }[] = [];
  for (const p of elements(rootOf(doc, "CompleteMultipartUpload"), "Part")) {
    const n = Number(textOf(p, "PartNumber"));
    const etag = (textOf(p, "ETag") ?? "").trim().replace(/^"|"$/g, "");
    if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw new S3Error("InvalidPart", `part number ${n} is not valid`);
    const last = listed[listed.length - 1];
    if (last && n < last.n) throw new S3Error("InvalidPartOrder");
    if (last && n === last.n) listed.pop();
    listed.push({ n, etag, checksum: partChecksum(p) });
  }
  if (!listed.length) throw new S3Error("MalformedXML", "a CompleteMultipartUpload names at least one <Part>");
  return listed;
}

/** The parts a CompleteMultipartUpload names, as the volumes hold them; S3's errors if they are not what is stored. */
async function chosenParts(s: S3, id: string, doc: string): Promise<{ pieces: Piece[]; etag: string; records: [number, KeyRecord][] }> {
  const listed = listedParts(doc);
  const md5s: Buffer[] = [];
  const pieces: Piece[] = [];
  const records: [number, KeyRecord][] = [];
  for (const [i, { n, etag, checksum }] of listed.entries()) {
    const key = partKey(id, n);
    const record = await s.values.get(key);
    if (!record || record.state !== "live" || record.md5 !== etag) throw new S3Error("InvalidPart", `part ${n} with ETag ${JSON.stringify(etag)} was not uploaded`);
    checkPartChecksum(n, checksum, record);
    if (i < listed.length - 1 && record.size < MIN_PART_SIZE) throw new S3Error("EntityTooSmall", `part ${n} has ${record.size} bytes; every part but the last needs ${MIN_PART_SIZE}`);
    md5s.push(Buffer.from(record.md5, "hex"));
    pieces.push({ name: storedName(key, record), size: record.size, volumes: record.volumes });
    records.push([n, record]);
  }
  return { pieces, records, etag: `${createHash("md5").update(Buffer.concat(md5s)).digest("hex")}-${listed.length}` };
}

/**
 * Completes an upload. What can be refused at once (no such upload, a wrong part, a
 * completion already under way) is answered with its status; once the parts are
 * checked, the answer is a 200 kept alive while the volumes assemble (keep-alive.ts).
 */
export async function completeUpload(s: S3, r: Req): Promise<Response> {
  const { id, upload } = await uploadOf(s, r, true);
  const key = keyOf(r.bucket, r.object);
  const doc = await smallBody(r.c, r.payload, 4 << 20, false);
  const precondition = writeCondition((n) => r.c.req.header(n), "CompleteMultipartUpload");
  precondition?.(await s.values.get(key)); // refused with its status if it fails now; checked again as the object is switched in
  let checked!: () => void;
  const partsChecked = new Promise<void>((resolve) => (checked = resolve));
  let etag: string | undefined;
  let kept: Kept | undefined;
  const held = s.values.locks.hold(uploadLock(id), async () => {
    const now = await s.values.tables.get<Upload>("uploads", id);
    if (!now) throw new S3Error("NoSuchUpload");
    if (now.completed) {
      // Sent again (its first answer was lost): the same answer.
      etag = now.completed;
      kept = now.completedChecksum;
      return checked();
    }
    const chosen = await chosenParts(s, id, doc);
    kept = upload.checksum && compose(upload.checksum, chosen.records);
    checkObjectChecksum((n) => r.c.req.header(n), kept);
    checked();
    const fields = withParts({ type: upload.type, meta: upload.meta, etag: chosen.etag }, chosen.pieces.map((p) => p.size));
    etag = etagOf(await s.values.assemble(key, chosen.pieces, kept ? withPartChecksums(withChecksum(fields, kept), chosen.records) : fields, inBucket(r.bucket), precondition));
    await s.values.tables.put("uploads", id, { ...now, completed: etag, ...(kept ? { completedChecksum: kept } : {}) } satisfies Upload);
    await dropParts(s.values, id);
  });
  if (!held) throw new S3Error("OperationAborted", "this upload is being completed or aborted already");
  await Promise.race([partsChecked, held]); // a refusal before assembling throws here, with its own status
  const location = `${new URL(r.c.req.url).protocol}//${r.c.req.header("host") ?? "localhost"}/${r.bucket}/${r.object}`;
  const work = held.then(() => ({
    root: "CompleteMultipartUploadResult",
    body: el("Location", location) + el("Bucket", r.bucket) + el("Key", r.object) + el("ETag", etag!) + (kept ? el(elementOf(kept.algorithm), kept.value) + el("ChecksumType", kept.type) : ""),
  }));
  return keptAliveXml(r.c, work, s.keepAliveMs, r.c.req.path);
}

/** Forgets an upload and deletes its parts. */
export async function dropUpload(values: Values, id: string): Promise<void> {
  await values.tables.delete("uploads", id);
  await dropParts(values, id);
}

/** Deletes an upload's parts. */
async function dropParts(values: Values, id: string): Promise<void> {
  const parts: [number, KeyRecord][] = [];
  for await (const part of partsOf(values, id)) parts.push(part);
  for (const [n, record] of parts) await values.locks.holdWhenFree(partKey(id, n), () => values.purge(partKey(id, n), record).then(() => {}));
}

export async function abortUpload(s: S3, r: Req): Promise<Response> {
  const { id } = await uploadOf(s, r);
  const held = s.values.locks.hold(uploadLock(id), () => dropUpload(s.values, id));
  if (!held) throw new S3Error("OperationAborted", "this upload is being completed or aborted already");
  await held;
  return r.c.body(null, 204);
}

/** Aborts every upload into a bucket (it is being deleted). */
export async function abortUploadsOf(s: S3, bucket: string): Promise<void> {
  const ids: string[] = [];
  for await (const [id, u] of s.values.tables.entries<Upload>("uploads")) if (u.bucket === bucket) ids.push(id);
  for (const id of ids) await s.values.locks.hold(uploadLock(id), () => dropUpload(s.values, id));
}
