/**
 * CopyObject (PUT with x-amz-copy-source): the copy is made on the volumes, each new
 * replica read from a replica of the source (the values API's assemble, master/values.ts, with
 * one piece); no byte goes through the master. The x-amz-copy-source-if-* conditions
 * are checked first; metadata is the source's (COPY) or the request's (REPLACE).
 * UploadPartCopy (the same with ?uploadId=&partNumber=) makes a part of an upload the
 * same way, of the whole source or of its x-amz-copy-source-range; for an upload that
 * asked for a checksum, the part gets one (pieceChecksum).
 */
import { storedName } from "../keys/names.ts";
import type { KeyRecord, Piece } from "../master/values.ts";
import { Checksum, elementOf, keptOf, withChecksum, type Algorithm, type Kept } from "./checksums.ts";
import { conflictsAs, evaluate, writeCondition } from "./conditions.ts";
import { S3Error } from "./errors.ts";
import { etagOf, fieldsOf, isoTime } from "./metadata.ts";
import { inBucket, keyOf, requireBucket } from "./names.ts";
import { Refused } from "./auth.ts";
import { accessKeyIdOf, checkGrants } from "./keys.ts";
import { partKey, partNumberOf, uploadOf } from "./multipart.ts";
import { liveRecord } from "./objects.ts";
import type { Req, S3 } from "./s3.ts";
import { el, xmlAnswer } from "./xml.ts";

/** x-amz-copy-source: "/bucket/key" or "bucket/key", percent-encoded, perhaps with ?versionId=. */
function sourceOf(header: string): { bucket: string; object: string } {
  const q = header.indexOf("?");
  if (q >= 0 && !/^versionId=(null)?$/.test(header.slice(q + 1))) throw new S3Error("NotImplemented", "versions are not supported");
  let path: string;
  try {
    path = decodeURIComponent(q < 0 ? header : header.slice(0, q)).replace(/^\//, "");
  } catch {
    throw new S3Error("InvalidArgument", "x-amz-copy-source is not validly percent-encoded");
  }
  const slash = path.indexOf("/");
  if (slash < 1 || slash === path.length - 1) throw new S3Error("InvalidArgument", "x-amz-copy-source must be bucket/key");
  return { bucket: path.slice(0, slash), object: path.slice(slash + 1) };
}

/** Throws AccessDenied unless the request's key may read a copy's source, counted and logged as the door's refusals are. */
function checkSourceGrant(s: S3, r: Req, bucket: string, object: string): void {
  try {
    checkGrants(r.grants, "GET", bucket, object);
  } catch (e) {
    if (e instanceof Refused) s.failures?.refused("s3", e.reason, `copy source: ${e.message}`, accessKeyIdOf(r.c));
    throw e;
  }
}

/** The copy source's live record, its x-amz-copy-source-if-* conditions met. */
async function sourceRecord(s: S3, r: Req): Promise<{ key: string; record: KeyRecord }> {
  const from = sourceOf(r.c.req.header("x-amz-copy-source")!);
  checkSourceGrant(s, r, from.bucket, from.object);
  const source = await liveRecord(s.values, from.bucket, from.object);
  if (evaluate(source.record, (name) => r.c.req.header(`x-amz-copy-source-${name}`)) !== "ok") throw new S3Error("PreconditionFailed");
  return source;
}

/** The source as the volumes hold it, whole. */
const pieceOf = (key: string, record: KeyRecord): Piece => ({ name: storedName(key, record), size: record.size, volumes: record.volumes });

export async function copyObject(s: S3, r: Req): Promise<Response> {
  const { c } = r;
  await requireBucket(s.values, r.bucket);
  const key = keyOf(r.bucket, r.object);
  const source = await sourceRecord(s, r);
  const directive = (c.req.header("x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") throw new S3Error("InvalidArgument", "x-amz-metadata-directive must be COPY or REPLACE");
  if (source.key === key && directive === "COPY") {
    throw new S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata");
  }
  const precondition = writeCondition((name) => c.req.header(name), "CopyObject");
  precondition?.(await s.values.get(key)); // refused before copying if it fails now; checked again as the copy is switched in
  const { record } = source;
  const fields = directive === "COPY" ? { type: record.s3?.type, meta: record.s3?.meta } : fieldsOf(c);
  const assembled = s.values.assemble(key, [pieceOf(source.key, record)], fields, inBucket(r.bucket), precondition);
  const copy = await (precondition ? conflictsAs(assembled) : assembled);
  const body = el("LastModified", isoTime(copy.time)) + el("ETag", etagOf(copy));
  return xmlAnswer(c, "CopyObjectResult", body);
}

/** x-amz-copy-source-range (bytes=first-last, both given, within the source) as the part of the source to copy. */
function rangeOf(header: string | undefined, piece: Piece): Piece {
  if (header === undefined) return piece;
  const m = /^bytes=(\d+)-(\d+)$/.exec(header.trim());
  if (!m || Number(m[1]) > Number(m[2])) throw new S3Error("InvalidArgument", "x-amz-copy-source-range must be bytes=first-last");
  const [first, last] = [Number(m[1]), Number(m[2])];
  if (last >= piece.size) throw new S3Error("InvalidRange", `the range is not valid for the source object of size ${piece.size}`);
  return { ...piece, offset: first, size: last - first + 1 };
}

/**
 * The checksum of the bytes `piece` takes from the source, for an upload that asked for
 * `algorithm`: the source's own when the piece is all of it and it kept one of that
 * algorithm; else those bytes are read from a replica (through the master: the price
 * of a checksum the volumes do not make).
 */
async function pieceChecksum(s: S3, source: { key: string; record: KeyRecord }, piece: Piece, algorithm: Algorithm): Promise<Kept> {
  const own = keptOf(source.record);
  const whole = piece.offset === undefined && piece.size === source.record.size;
  if (whole && own?.algorithm === algorithm && own.type === "FULL_OBJECT") return own;
  const sum = new Checksum(algorithm);
  const first = piece.offset ?? 0;
  if (piece.size > 0) {
    const res = await s.values.read(source.key, source.record, "GET", { range: `bytes=${first}-${first + piece.size - 1}` });
    if (!res?.body || !res.ok) throw new S3Error("ServiceUnavailable", "no replica of the copy source answered");
    for await (const chunk of res.body) sum.update(chunk);
  }
  return { algorithm, type: "FULL_OBJECT", value: sum.value() };
}

/** UploadPartCopy: part N of an upload made on the volumes from (a range of) an object, with its checksum if the upload asked for one. */
export async function uploadPartCopy(s: S3, r: Req): Promise<Response> {
  const n = partNumberOf(r);
  const { id, upload } = await uploadOf(s, r);
  const source = await sourceRecord(s, r);
  const piece = rangeOf(r.c.req.header("x-amz-copy-source-range"), pieceOf(source.key, source.record));
  const sum = upload.checksum && (await pieceChecksum(s, source, piece, upload.checksum.algorithm));
  const part = await s.values.assemble(partKey(id, n), [piece], sum ? withChecksum({}, sum) : {});
  const answer = el("LastModified", isoTime(part.time)) + el("ETag", etagOf(part)) + (sum ? el(elementOf(sum.algorithm), sum.value) : "");
  return xmlAnswer(r.c, "CopyPartResult", answer);
}
