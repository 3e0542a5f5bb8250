/**
 * The few XML request bodies S3 clients send (CompleteMultipartUpload, DeleteObjects,
 * CreateBucketConfiguration), read by element name: flat documents of known shape,
 * where a full parser would buy nothing.
 */
import { S3Error } from "./errors.ts";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] !== "#") return ENTITIES[e.toLowerCase()];
    return String.fromCodePoint(e[1].toLowerCase() === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/** The raw contents of every <name>…</name> in `xml`, in order (elements of one name do not nest in S3's bodies). */
export function elements(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, "g");
  return [...xml.matchAll(re)].map((m) => m[1]);
}

/** The text of the first <name> in `xml`, unescaped (CDATA kept as is); undefined if there is none. */
export function textOf(xml: string, name: string): string | undefined {
  const inner = elements(xml, name)[0];
  if (inner === undefined) return undefined;
  const cdata = /^<!\[CDATA\[([\s\S]*)\]\]>$/.exec(inner);
  if (cdata) return cdata[1];
  if (inner.includes("<")) throw new S3Error("MalformedXML", `<${name}> holds markup`);
  return unescapeXml(inner);
}

/** A request body that must be an XML document with this root. */
export function rootOf(xml: string, root: string): string {
  const body = elements(xml, root)[0];
  if (body === undefined) throw new S3Error("MalformedXML", `expected a <${root}> document`);
  return body;
}
