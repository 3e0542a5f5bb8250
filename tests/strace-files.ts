/**
 * What a traced process did to its files and sockets, from its syscalls: each fd is
 * followed from the openat (its path) or accept that made it to its close, so a write
 * or an fsync is tied to the file it touched even after the fd number is reused. One
 * fd table is assumed: a single process and its threads (Node with its thread pool).
 */
import { firstInt, strings, type Syscall } from "./strace-parse.ts";

/** One opening of a file (or one accepted socket, or one socket it made). */
export interface Opened {
  path: string;
  /** A socket it accepted. */
  socket: boolean;
  /** For a socket it made: the address it connected to ("127.0.0.1:8080"), once connect was called. */
  peer?: string;
  /** Opened O_SYNC or O_DSYNC: each write is durable when it returns. */
  syncWrites: boolean;
  /** Bytes written so far at the current position, for write/writev. */
  pos: number;
}

export interface Write {
  file: Opened;
  entry: number;
  exit: number;
  /** Where in the file the bytes went. */
  offset: number;
  data: Buffer;
  /** strace printed only part of the data (raise -s). */
  cut: boolean;
  /** -tt time of the entry, for messages. */
  time: string;
}

export interface Sync {
  file: Opened;
  entry: number;
  exit: number;
}

/** A rename that returned (paths as the process gave them). */
export interface Rename {
  from: string;
  to: string;
  exit: number;
}

export interface Read {
  file: Opened;
  exit: number;
  data: Buffer;
}

export interface FileActivity {
  writes: Write[];
  syncs: Sync[];
  reads: Read[];
  renames: Rename[];
  /** Syscalls that would hide file I/O from strace (io_uring). */
  hidden: string[];
}

const WRITES = new Set(["write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg"]);
const READS = new Set(["read", "readv", "recvfrom", "recvmsg"]);
const OPENS = new Set(["open", "openat", "creat"]);
const SYNCS = new Set(["fsync", "fdatasync"]);

/** The last numeric argument (the offset of pwrite64/pwritev). */
const lastInt = (args: string) => Number(/(-?\d+)\s*$/.exec(args)?.[1] ?? -1);

/**
 * The bytes a write or read moved: its strings (iovecs joined), cut to the return
 * value; all of them if the process died before the call returned ("= ?").
 */
function payload(call: Syscall): { data: Buffer; cut: boolean } {
  const parts = strings(call.args);
  const data = Buffer.concat(parts.map((p) => p.bytes));
  return { data: call.ret === undefined ? data : data.subarray(0, call.ret), cut: parts.some((p) => p.cut) };
}

/** "127.0.0.1:8080" from connect's sockaddr as strace prints it (its one string: the address, as \xNN), or "?". */
function connectedTo(args: string): string {
  const port = /sin6?_port=htons\((\d+)\)/.exec(args)?.[1];
  const addr = strings(args)[0]?.bytes.toString();
  return port && addr ? `${addr}:${port}` : "?";
}

export function fileActivity(calls: Syscall[]): FileActivity {
  // Entries and returns in line order: an fd is freed when close enters, taken when open returns.
  const events = calls.flatMap((c) => [
    { at: c.entry, phase: 0, c },
    { at: c.exit, phase: 1, c },
  ]);
  events.sort((a, b) => a.at - b.at || a.phase - b.phase);
  const fds = new Map<number, Opened>();
  const atEntry = new Map<Syscall, Opened | undefined>();
  const out: FileActivity = { writes: [], syncs: [], reads: [], renames: [], hidden: [] };
  for (const { phase, c } of events) {
    if (phase === 0) {
      const fd = firstInt(c.args);
      atEntry.set(c, fds.get(fd));
      if (c.name === "close") fds.delete(fd);
      continue;
    }
    const file = atEntry.get(c);
    if (c.name.startsWith("io_uring")) out.hidden.push(`${c.name} at line ${c.entry + 1}`);
    // A write the process was killed in (no return) may have gone out: a client may have its answer.
    if (file && WRITES.has(c.name) && (c.ret === undefined || c.ret >= 0)) {
      const positioned = c.name.startsWith("pwrite");
      const offset = positioned ? lastInt(c.args) : file.pos;
      const { data, cut } = payload(c);
      if (!positioned) file.pos += c.ret ?? data.length;
      out.writes.push({ file, entry: c.entry, exit: c.exit, offset, data, cut, time: c.time });
    }
    // A nonblocking connect returns EINPROGRESS: the address is what counts.
    if (file && c.name === "connect") file.peer = connectedTo(c.args);
    if (c.ret === undefined || c.ret < 0) continue;
    if (OPENS.has(c.name)) {
      const path = strings(c.args)[0]?.bytes.toString() ?? "?";
      fds.set(c.ret!, { path, socket: false, syncWrites: /O_D?SYNC/.test(c.args), pos: 0 });
    } else if (c.name === "accept" || c.name === "accept4") {
      fds.set(c.ret!, { path: "socket", socket: true, syncWrites: false, pos: 0 });
    } else if (c.name === "socket") {
      fds.set(c.ret!, { path: "outgoing socket", socket: false, syncWrites: false, pos: 0 });
    } else if (/^dup[23]?$/.test(c.name) && file) {
      fds.set(c.ret!, file);
    } else if (file && READS.has(c.name)) {
      out.reads.push({ file, exit: c.exit, data: payload(c).data });
    } else if (file && SYNCS.has(c.name)) {
      out.syncs.push({ file, entry: c.entry, exit: c.exit });
    } else if (c.name.startsWith("rename")) {
      const [from, to] = strings(c.args).map((p) => p.bytes.toString());
      out.renames.push({ from, to, exit: c.exit });
    }
  }
  return out;
}

/**
 * A sync of `w`'s file that started after `w` returned and returned before line
 * `before`; on an O_SYNC/O_DSYNC file, the write itself.
 */
export function syncAfter(activity: FileActivity, w: Write, before: number): Sync | undefined {
  if (w.file.syncWrites) return w.exit < before ? { file: w.file, entry: w.exit, exit: w.exit } : undefined;
  return activity.syncs.find((s) => s.file === w.file && s.entry > w.exit && s.exit < before);
}

/** The file's bytes as its writes left them, and which write last put each byte there. */
export function contents(activity: FileActivity, file: Opened): { bytes: Buffer; writer: (offset: number) => Write | undefined } {
  const writes = activity.writes.filter((w) => w.file === file);
  const size = writes.reduce((n, w) => Math.max(n, w.offset + w.data.length), 0);
  const bytes = Buffer.alloc(size);
  for (const w of writes) w.data.copy(bytes, w.offset);
  const writer = (offset: number) => writes.findLast((w) => w.offset <= offset && offset < w.offset + w.data.length);
  return { bytes, writer };
}
