/** What a request says about its body's length, read from headers before the body. */
import type { Context } from "hono";

export type DeclaredLength =
  | { kind: "length"; bytes: number }
  | { kind: "chunked" }
  | { kind: "none" }
  | { kind: "invalid" };

export function declaredLength(c: Context): DeclaredLength {
  const cl = c.req.header("content-length");
  if (cl !== undefined) {
    const bytes = Number(cl);
    return /^\d{1,16}$/.test(cl.trim()) && Number.isSafeInteger(bytes) ? { kind: "length", bytes } : { kind: "invalid" };
  }
  const te = c.req.header("transfer-encoding");
  return te && /chunked/i.test(te) ? { kind: "chunked" } : { kind: "none" };
}
