/**
 * HTTP/1.1 exchanges seen in a syscall trace, per accepted socket: the request lines
 * read on it, and the answers written on it, paired in order (HTTP/1.1 without
 * pipelining answers one request before the next is sent on the same connection); and
 * the same the other way on the sockets the process connected: its requests, and the
 * answers it read.
 */
import type { FileActivity, Opened } from "./strace-files.ts";

export interface Answered {
  method: string;
  key: string;
  /** The request target as sent, query included. */
  target: string;
  status: number;
  /** Line where the read holding the request line returned. */
  read: number;
  /** Line where the write of the status line entered. */
  answered: number;
  /** Its -tt time, for messages. */
  time: string;
  /** What of the request's body came in the read that held its request line (latin1). */
  body: string;
  /** The write that began the answer (latin1): its status line, headers and what followed them. */
  reply: string;
}

const REQUEST_LINE = /(GET|HEAD|PUT|POST|DELETE|UNLINK) (\S+) HTTP\/1\.[01]\r\n/g;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3}) /;

/** Every answer written on an accepted socket, with the request it answered. */
export function answers(activity: FileActivity): Answered[] {
  type Event = { file: Opened; line: number; read?: Buffer; written?: Buffer; time?: string };
  const events: Event[] = [
    ...activity.reads.filter((r) => r.file.socket).map((r) => ({ file: r.file, line: r.exit, read: r.data })),
    ...activity.writes.filter((w) => w.file.socket).map((w) => ({ file: w.file, line: w.entry, written: w.data, time: w.time })),
  ].sort((a, b) => a.line - b.line);
  const waiting = new Map<Opened, { method: string; path: string; line: number; body: string }[]>();
  const out: Answered[] = [];
  for (const e of events) {
    const queue = waiting.get(e.file) ?? [];
    waiting.set(e.file, queue);
    if (e.read) {
      const text = e.read.toString("latin1");
      for (const m of text.matchAll(REQUEST_LINE)) {
        const headEnd = text.indexOf("\r\n\r\n", m.index);
        queue.push({ method: m[1], path: m[2], line: e.line, body: headEnd < 0 ? "" : text.slice(headEnd + 4) });
      }
      continue;
    }
    const reply = e.written!.toString("latin1");
    const status = Number(STATUS_LINE.exec(reply)?.[1] ?? 0);
    if (!status || status === 100) continue; // a body part, or an interim answer
    const request = queue.shift();
    if (!request) continue;
    const key = decodeURIComponent(request.path.split("?")[0]);
    out.push({ method: request.method, key, target: request.path, status, read: request.line, answered: e.line, time: e.time!, body: request.body, reply });
  }
  return out;
}

/** A request the process sent on a socket it connected, and the answer it read. */
export interface Exchange {
  /** The address the socket was connected to ("127.0.0.1:8080"). */
  peer: string;
  method: string;
  /** The request target, query included. */
  target: string;
  status: number;
  /** Line where the write of its request line entered. */
  sent: number;
  /** Line where the read holding the answer's status line returned. */
  heard: number;
}

const SENT_REQUEST = /^(GET|HEAD|PUT|POST|DELETE|UNLINK) (\S+) HTTP\/1\.[01]\r\n/;

/** Every answer the process read on a socket it connected, with the request it sent for it. */
export function exchanges(activity: FileActivity): Exchange[] {
  type Event = { file: Opened; line: number; data: Buffer; sent: boolean };
  const events: Event[] = [
    ...activity.reads.filter((r) => r.file.peer).map((r) => ({ file: r.file, line: r.exit, data: r.data, sent: false })),
    ...activity.writes.filter((w) => w.file.peer).map((w) => ({ file: w.file, line: w.entry, data: w.data, sent: true })),
  ].sort((a, b) => a.line - b.line);
  const waiting = new Map<Opened, { method: string; target: string; line: number }[]>();
  const out: Exchange[] = [];
  for (const e of events) {
    const queue = waiting.get(e.file) ?? [];
    waiting.set(e.file, queue);
    const text = e.data.toString("latin1");
    if (e.sent) {
      const m = SENT_REQUEST.exec(text);
      if (m) queue.push({ method: m[1], target: m[2], line: e.line });
      continue;
    }
    const status = Number(STATUS_LINE.exec(text)?.[1] ?? 0);
    if (!status || status === 100) continue; // a body part, or an interim answer
    const request = queue.shift();
    if (request) out.push({ peer: e.file.peer!, method: request.method, target: request.target, status, sent: request.line, heard: e.line });
  }
  return out;
}
