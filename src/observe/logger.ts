/**
 * Where every server line goes. Two formats (--log-format, KVDB_LOG_FORMAT): "text",
 * the readable default, and "json", one object per line with time, level, role, msg
 * and the line's fields, for a log shipper. Info goes to stdout, warnings and errors
 * to stderr, in both formats.
 */
import process from "node:process";

export type LogFormat = "text" | "json";
export type Level = "info" | "warn" | "error";
export type LogFields = Record<string, string | number | boolean | undefined>;

export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

let format: LogFormat = "text";

/** Set once at start, before the first line (a process runs one format). */
export function setLogFormat(f: LogFormat): void {
  format = f;
}

/** The readable form: "kvdb <role>: <msg> k=v …" (a warning says so). */
function textOf(level: Level, role: string, msg: string, fields: LogFields): string {
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${v}`)
    .join("");
  return `kvdb ${role}: ${level === "warn" ? "warning: " : ""}${msg}${rest}`;
}

/**
 * Writes one line. `text` replaces the readable form where a line has its own (the
 * start line, request lines); the JSON form is always the same shape.
 */
export function logLine(level: Level, role: string, msg: string, fields: LogFields = {}, text?: string): void {
  const line =
    format === "json"
      ? JSON.stringify({ time: new Date().toISOString(), level, role, msg, ...fields })
      : (text ?? textOf(level, role, msg, fields));
  (level === "info" ? process.stdout : process.stderr).write(`${line}\n`);
}

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** The lines of one role ("master", "volume", "janitor"…). */
export function logger(role: string): Logger {
  return {
    info: (msg, fields) => logLine("info", role, msg, fields),
    warn: (msg, fields) => logLine("warn", role, msg, fields),
    error: (msg, fields) => logLine("error", role, msg, fields),
  };
}
