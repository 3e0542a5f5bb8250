/**
 * The names values have on the volumes. A value written through the curl API is stored
 * under its key. A value written through S3 is stored under a version name,
 * /_kvdb/v/<id><key>: the new value's replicas are written beside the current one's and
 * the index switches from one to the other in a single step (src/master/versions.ts).
 * The key is part of the name, so a name always says which key it belongs to.
 */
import { randomBytes } from "node:crypto";
import { keyError, type ParsedKey } from "./keys.ts";

export const VERSION_PREFIX = "/_kvdb/v/";
const VERSION = /^\/_kvdb\/v\/[0-9a-z]{1,32}(\/.*)$/s;

/** A fresh name for a new value of `key`: the time (so names sort by age) and 48 random bits. */
export function versionName(key: string): string {
  return `${VERSION_PREFIX}${Date.now().toString(36)}${randomBytes(6).toString("hex")}${key}`;
}

/** The key a stored name belongs to. */
export function ownerOf(name: string): string {
  return VERSION.exec(name)?.[1] ?? name;
}

/** The name a record's replicas have on the volumes. */
export function storedName(key: string, record: { blob?: string }): string {
  return record.blob ?? key;
}

/**
 * Parses a raw path on a volume into a stored name: a key, or a version name of a key
 * (whose key may be one the servers made for themselves, such as an S3 part).
 */
export function parseStoredName(rawPath: string): ParsedKey {
  let name: string;
  try {
    name = decodeURIComponent(rawPath);
  } catch {
    return { error: "invalid percent-encoding or UTF-8 in key" };
  }
  const error = storedNameError(name);
  return error ? { error } : { key: name };
}

/** Why a (decoded) stored name is not one, or undefined if it is. */
export function storedNameError(name: string): string | undefined {
  const version = VERSION.exec(name);
  return version ? keyError(version[1], true) : keyError(name);
}
