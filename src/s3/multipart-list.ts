/** ListParts (GET ?uploadId=) and ListMultipartUploads (GET /bucket?uploads). */
import { S3Error } from "./errors.ts";
import { listingAsked, maxOf, OWNER, pastPrefix } from "./listing.ts";
import { etagOf, isoTime } from "./metadata.ts";
import { partsOf, uploadOf, type Upload } from "./multipart.ts";
import type { Req, S3 } from "./s3.ts";
import { el, xmlAnswer } from "./xml.ts";

const PEOPLE = `<Initiator>${el("ID", "kvdb")}${el("DisplayName", "kvdb")}</Initiator>${OWNER}`;

export async function listParts(s: S3, r: Req): Promise<Response> {
  const { id } = await uploadOf(s, r);
  const marker = Number(r.params.get("part-number-marker") ?? 0);
  if (!Number.isInteger(marker) || marker < 0) throw new S3Error("InvalidArgument", "part-number-marker must be a part number");
  const max = maxOf(r, "max-parts");
  let parts = "";
  let count = 0;
  let last = marker;
  let truncated = false;
  for await (const [n, part] of partsOf(s.values, id, marker)) {
    if (count === max) {
      truncated = true;
      break;
    }
    parts += `<Part>${el("PartNumber", n)}${el("LastModified", isoTime(part.time))}${el("ETag", etagOf(part))}${el("Size", part.size)}</Part>`;
    count++;
    last = n;
  }
  const body =
    el("Bucket", r.bucket) +
    el("Key", r.object) +
    el("UploadId", id) +
    el("PartNumberMarker", marker) +
    el("NextPartNumberMarker", last) +
    el("MaxParts", max) +
    el("IsTruncated", truncated) +
    parts +
    PEOPLE +
    el("StorageClass", "STANDARD");
  return xmlAnswer(r.c, "ListPartsResult", body);
}

export async function listUploads(s: S3, r: Req): Promise<Response> {
  const { prefix, delimiter, max, encode } = await listingAsked(s, r, "max-uploads");
  const keyMarker = r.params.get("key-marker") ?? "";
  const idMarker = r.params.get("upload-id-marker") ?? "";
  // In progress uploads are few: gathered, then sorted by key and age as S3 lists them.
  const all: [string, Upload][] = [];
  for await (const [id, u] of s.values.tables.entries<Upload>("uploads")) if (u.bucket === r.bucket && !u.completed && u.object.startsWith(prefix)) all.push([id, u]);
  all.sort(([a, x], [b, y]) => Buffer.compare(Buffer.from(x.object), Buffer.from(y.object)) || x.initiated - y.initiated || (a < b ? -1 : 1));
  const after = ([id, u]: [string, Upload]) => u.object > keyMarker || (u.object === keyMarker && idMarker !== "" && id > idMarker);
  let uploads = "";
  const prefixes: string[] = [];
  let count = 0;
  let truncated = false;
  let next: [string, string] = ["", ""];
  for (const [id, u] of all.filter(after)) {
    const cut = delimiter ? u.object.indexOf(delimiter, prefix.length) : -1;
    const common = cut < 0 ? undefined : u.object.slice(0, cut + delimiter.length);
    if (common && (prefixes.at(-1) === common || pastPrefix(common) <= keyMarker)) continue;
    if (count === max) {
      truncated = true;
      break;
    }
    count++;
    if (common) {
      prefixes.push(common);
      next = [common, ""];
      continue;
    }
    uploads += `<Upload>${el("Key", encode(u.object))}${el("UploadId", id)}${PEOPLE}${el("StorageClass", "STANDARD")}${el("Initiated", isoTime(u.initiated))}</Upload>`;
    next = [u.object, id];
  }
  const body =
    el("Bucket", r.bucket) +
    el("KeyMarker", encode(keyMarker)) +
    el("UploadIdMarker", idMarker) +
    (truncated ? el("NextKeyMarker", encode(next[0])) + el("NextUploadIdMarker", next[1]) : "") +
    el("Prefix", encode(prefix)) +
    (delimiter ? el("Delimiter", encode(delimiter)) : "") +
    el("MaxUploads", max) +
    el("IsTruncated", truncated) +
    uploads +
    prefixes.map((p) => `<CommonPrefixes>${el("Prefix", encode(p))}</CommonPrefixes>`).join("");
  return xmlAnswer(r.c, "ListMultipartUploadsResult", body);
}
