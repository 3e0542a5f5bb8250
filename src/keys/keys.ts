/**
 * Keys: the URL path of a request, percent-decoded, 1–1024 bytes of UTF-8.
 * Validation is strict because the same key names a file on every volume and a
 * record in the master's index; a key that could be read two ways is refused.
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";

export const MAX_KEY_BYTES = 1024;
/** Paths under this prefix are the servers' own endpoints, never keys. */
export const RESERVED_PREFIX = "/_kvdb/";

export type ParsedKey = { key: string } | { error: string };

const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
/** Characters encodeURIComponent leaves alone, and the segments' slashes. */
const PLAIN_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/;

/**
 * decodeURIComponent, which throws on bad escapes and on escapes that are not UTF-8;
 * a path without any escape is its own decoding, and is returned without the call,
 * which costs ~0.5 µs under Bun even then (docs/PERFORMANCE.md, "The master's small
 * requests: profile").
 */
export function decodePath(raw: string): string {
  return raw.includes("%") ? decodeURIComponent(raw) : raw;
}

/** Parses a raw (still percent-encoded) request path into a key, or says why it is not one. */
export function parseKey(rawPath: string): ParsedKey {
  if (!rawPath.startsWith("/")) return { error: "key must start with /" };
  let key: string;
  try {
    key = decodePath(rawPath);
  } catch {
    return { error: "invalid percent-encoding or UTF-8 in key" };
  }
  const error = keyError(key);
  return error ? { error } : { key };
}

/**
 * Why a decoded key cannot be a key, or undefined if it can. `internal`: a key the
 * servers make for themselves (under /_kvdb/, such as an S3 upload's part) is allowed.
 */
export function keyError(key: string, internal = false): string | undefined {
  if (!key.startsWith("/")) return "key must start with /";
  if (key === "/") return "empty key";
  if (key.includes("\0")) return "NUL byte in key";
  if (key.includes("//")) return "empty path segment (//) in key";
  if (DOT_SEGMENT.test(key)) return ". or .. segment in key";
  // A UTF-16 unit is at most 3 bytes of UTF-8: most keys need no count (which Buffer.byteLength makes without a copy).
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) return `key longer than ${MAX_KEY_BYTES} bytes`;
  if (!internal && key.startsWith(RESERVED_PREFIX)) return `${RESERVED_PREFIX} is reserved`;
  return undefined;
}

/** The key as a URL path again, each segment percent-encoded. */
export function keyPath(key: string): string {
  return PLAIN_PATH.test(key) ? key : key.split("/").map(encodeURIComponent).join("/");
}

/**
 * The blob's file path relative to a volume's blob dir. A hash, never the raw key:
 * no key can name a path outside the data dir, and a 1024-byte key still fits the
 * 255-byte file-name limit. Two levels of 256 dirs keep each dir small.
 */
export function blobPath(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`;
}
