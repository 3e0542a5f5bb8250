/** A request's Content-MD5 (RFC 1864: base64 of the 16 bytes; the hex form is accepted too). */
import type { Context } from "hono";

export type DeclaredMd5 = { kind: "none" } | { kind: "md5"; hex: string } | { kind: "invalid" };

export function declaredMd5(c: Context): DeclaredMd5 {
  const v = c.req.header("content-md5")?.trim();
  if (v === undefined) return { kind: "none" };
  if (/^[0-9a-f]{32}$/i.test(v)) return { kind: "md5", hex: v.toLowerCase() };
  if (/^[A-Za-z0-9+/]{22}==$/.test(v)) return { kind: "md5", hex: Buffer.from(v, "base64").toString("hex") };
  return { kind: "invalid" };
}
