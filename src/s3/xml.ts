/** S3's XML answers, built as strings, every text escaped (request bodies: xml-read.ts). */
import type { Context } from "hono";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

/** One element with escaped text; nothing for undefined. */
export function el(name: string, text: string | number | boolean | undefined): string {
  return text === undefined ? "" : `<${name}>${escapeXml(String(text))}</${name}>`;
}

export const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** The root element of an answer; `ns`: with S3's namespace (errors have none). */
export function xmlRoot(root: string, body: string, ns = true): string {
  const attr = ns ? ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' : "";
  return `<${root}${attr}>${body}</${root}>`;
}

/** A whole answer document. */
export function xmlDoc(root: string, body: string, ns = true): string {
  return DECLARATION + xmlRoot(root, body, ns);
}

/** A 200 answer carrying an XML document. */
export function xmlAnswer(c: Context, root: string, body: string): Response {
  return c.body(xmlDoc(root, body), 200, { "content-type": "application/xml" });
}
