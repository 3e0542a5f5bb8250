/**
 * `kvdb server`'s credentials file (issue 26, items 2 and 5): DIR/credentials, mode 0600,
 * named on the start line, which prints no secret. On a fresh data dir it receives the
 * first admin key, made in the index before the master opens it, shown nowhere else;
 * when S3's keys were not given, the pair made up for it, kept there so that it stays the
 * same across restarts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootstrapKey } from "../ops/keys.ts";
import type { S3Settings } from "../s3/start.ts";

export const CREDENTIALS_FILE = "credentials";

const HEADER =
  "# kvdb server's credentials: keep this file private.\n" +
  "# token= is the first admin key's (Authorization: Bearer TOKEN, curl -u ID:SECRET, KVDB_TOKEN for kvdb keys/status/verify;\n" +
  "# as an S3 key too); s3-access-key= and s3-secret-key= are the S3 pair made up when none was given (docs/SECURITY.md).\n";

/** name=value lines, comments skipped. */
function fieldsOf(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}

/**
 * Fills `dir`'s credentials file: the first admin key when `fresh` (no index yet at
 * `db`), the S3 pair when `s3` was made up (S3Settings.madeUp). Returns the file's path
 * and the S3 settings to serve with (the pair kept from an earlier start, if any).
 */
export async function serverCredentials(dir: string, db: string, fresh: boolean, s3: S3Settings | undefined): Promise<{ path: string; s3?: S3Settings }> {
  const path = join(dir, CREDENTIALS_FILE);
  const fields = fieldsOf(existsSync(path) ? readFileSync(path, "utf8") : "");
  const before = [...fields].join("\n");
  if (fresh) for (const [name, value] of fieldsOf(await bootstrapKey(db, "admin", [{ level: "admin" }]))) fields.set(name, value);
  if (s3?.madeUp) {
    const [accessKey, secretKey] = [fields.get("s3-access-key"), fields.get("s3-secret-key")];
    if (accessKey && secretKey) s3 = { ...s3, accessKey, secretKey };
    else fields.set("s3-access-key", s3.accessKey).set("s3-secret-key", s3.secretKey);
  }
  if ([...fields].join("\n") !== before) {
    writeFileSync(path, HEADER + [...fields].map(([name, value]) => `${name}=${value}\n`).join(""), { mode: 0o600 });
    chmodSync(path, 0o600); // the mode is applied only when the file is made
  }
  return { path, s3 };
}
