/**
 * The checksums a CompleteMultipartUpload sends, compared as S3 compares them with what
 * kvdb made from the parts (checksums.ts compose): the object's, in x-amz-checksum-<algorithm>
 * (a COMPOSITE one with or without its "-N") and x-amz-checksum-type, and each part's,
 * in its <Part>'s <ChecksumCRC32>… A different value is BadDigest (the object's) or
 * InvalidPart (a part's); one the upload did not ask for is InvalidRequest.
 */
import type { KeyRecord } from "../master/values.ts";
import { ALGORITHMS, elementOf, headerOf, keptOf, type Kept } from "./checksums.ts";
import { S3Error } from "./errors.ts";
import { textOf } from "./xml-read.ts";

type Header = (name: string) => string | undefined;

/** The object's checksum as a CompleteMultipartUpload sent it, compared with `kept` (undefined: the upload asked for none). */
export function checkObjectChecksum(header: Header, kept: Kept | undefined): void {
  const algorithm = ALGORITHMS.find((a) => header(headerOf(a)) !== undefined);
  const type = header("x-amz-checksum-type")?.toUpperCase();
  if (algorithm === undefined && type === undefined) return;
  if (!kept) throw new S3Error("InvalidRequest", "the upload was created without x-amz-checksum-algorithm: it has no checksum to compare");
  if (type !== undefined && type !== kept.type) throw new S3Error("InvalidRequest", `the upload's checksum type is ${kept.type}, not ${type}`);
  if (algorithm === undefined) return;
  if (algorithm !== kept.algorithm) throw new S3Error("InvalidRequest", `the upload's checksum algorithm is ${kept.algorithm.toUpperCase()}, not ${algorithm.toUpperCase()}`);
  const sent = header(headerOf(algorithm))!.trim();
  if (sent !== kept.value && sent !== kept.value.replace(/-\d+$/, "")) throw new S3Error("BadDigest", `the ${headerOf(algorithm)} sent does not match the object's`);
}

/** The checksum a <Part> names, if any: which algorithm and value. */
export function partChecksum(part: string): { element: string; value: string } | undefined {
  for (const a of ALGORITHMS) {
    const value = textOf(part, elementOf(a));
    if (value !== undefined) return { element: elementOf(a), value: value.trim() };
  }
  return undefined;
}

/** InvalidPart unless the checksum a <Part> named is the one part `n` was uploaded with. */
export function checkPartChecksum(n: number, named: { element: string; value: string } | undefined, record: KeyRecord): void {
  if (!named) return;
  const kept = keptOf(record);
  if (!kept || elementOf(kept.algorithm) !== named.element || kept.value !== named.value) {
    throw new S3Error("InvalidPart", `part ${n} was not uploaded with the ${named.element} ${JSON.stringify(named.value)}`);
  }
}
