/** HTTP Range requests (RFC 9110 §14) for one byte range; anything else serves the whole value. */

export type RangeAnswer =
  | { kind: "full" }
  | { kind: "partial"; start: number; end: number }
  | { kind: "unsatisfiable" };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!header) return { kind: "full" };
  const m = SINGLE.exec(header.trim());
  // Malformed or multi-range: RFC 9110 lets a server ignore Range and send 200.
  if (!m || (m[1] === "" && m[2] === "")) return { kind: "full" };
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: "unsatisfiable" };
    // The last n bytes of nothing are nothing: no 206 can say so, the (empty) whole can.
    if (size === 0) return { kind: "full" };
    return { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  // last-pos < first-pos is an invalid range: ignored. An open end is never invalid.
  if (m[2] !== "" && Number(m[2]) < start) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", start, end: m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

/** If-None-Match against an entity tag (weak comparison, as for GET). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === bare);
}
