/**
 * Was it durable before the client heard 201? From a traced process's file activity:
 * the writes that carried a value (into a value file, or inside a LevelDB log record)
 * and whether an fsync/fdatasync of that same file started after such a write returned
 * and returned before the answer was written.
 */
import { dirname } from "node:path";
import { isKey, logPuts, type LogPut } from "./leveldb-log.ts";
import { contents, syncAfter, type FileActivity, type Opened, type Sync, type Write } from "./strace-files.ts";
import type { Answered } from "./strace-http.ts";

/** Each file opening (not socket) whose path `accept` takes. */
function openings(activity: FileActivity, accept: (path: string) => boolean): Opened[] {
  return [...new Set(activity.writes.map((w) => w.file))].filter((f) => !f.socket && accept(f.path));
}

/** Every Put in the LevelDB logs `isLog` takes, with the write that finished its record. */
export function logPutWrites(activity: FileActivity, isLog: (path: string) => boolean): { put: LogPut; write: Write }[] {
  return openings(activity, isLog).flatMap((file) => {
    const { bytes, writer } = contents(activity, file);
    return logPuts(bytes).map((put) => ({ put, write: writer(put.end - 1)! }));
  });
}

/** The log writes of the Puts of `key` whose value `holds` accepts. */
export function putsOf(puts: { put: LogPut; write: Write }[], key: string, holds: (value: Buffer) => boolean = () => true): Write[] {
  return puts.filter((p) => isKey(p.put.key, key) && holds(p.put.value)).map((p) => p.write);
}

/** The last of `writes` to enter before line `before` (the latest state written), as a list of 0 or 1. */
export function lastBefore(writes: Write[], before: number): Write[] {
  const earlier = writes.filter((w) => w.entry < before).sort((a, b) => a.exit - b.exit);
  return earlier.slice(-1);
}

/** Whether `stored` holds `value`: as is, or base64- or hex-encoded (as a JSON field might). */
export function holdsValue(stored: Buffer, value: Buffer): boolean {
  return stored.includes(value) || stored.includes(value.toString("base64")) || stored.includes(value.toString("hex"));
}

/** The writes, to files `isValueFile` takes, that put the last byte of `value` there. */
export function valueFileWrites(activity: FileActivity, isValueFile: (path: string) => boolean, value: Buffer): Write[] {
  const out: Write[] = [];
  for (const file of openings(activity, isValueFile)) {
    const { bytes, writer } = contents(activity, file);
    const at = bytes.indexOf(value);
    if (at >= 0) out.push(writer(at + value.length - 1)!);
  }
  return out;
}

/** The first carrier written for this request that a sync made durable before the answer. */
export function syncedCarrier(activity: FileActivity, answer: Answered, carriers: Write[]): Write | undefined {
  return carriers.find((w) => w.entry > answer.read && syncAfter(activity, w, answer.answered));
}

/**
 * For a value written to a file that was then renamed (temp file → its name): the
 * sync of the directory it was renamed into, after the rename and before the answer
 * (without it a power loss can lose the name). Undefined if there was no such sync;
 * "no rename" if the file kept its name.
 */
export function renameSynced(activity: FileActivity, w: Write, answer: Answered): Sync | "no rename" | undefined {
  const rename = activity.renames.find((r) => r.from === w.file.path && r.exit > w.exit && r.exit < answer.answered);
  if (!rename) return "no rename";
  const dir = dirname(rename.to);
  return activity.syncs.find((s) => s.file.path === dir && s.entry > rename.exit && s.exit < answer.answered);
}

/** Why an answer was not covered, for a failure message. */
export function uncovered(answer: Answered, what: string, carriers: Write[]): string {
  const where = carriers.map((w) => `${w.file.path} (write returned line ${w.exit + 1}${w.cut ? ", cut by -s" : ""})`);
  return `${answer.method} ${answer.key}: ${answer.status} written at ${answer.time} (line ${answer.answered + 1}) with no fsync/fdatasync covering ${what} before it; ${where.length ? `written to ${where.join(", ")}` : "no write carrying it was found"}`;
}
