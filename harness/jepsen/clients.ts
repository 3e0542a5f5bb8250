/**
 * The workload of a consistency run: concurrent clients, each one request at a time,
 * PUT/GET/DELETE of a few keys and now and then a `?list`, each to a master picked at
 * random; every value unique to its write, so a GET's Content-Md5 names the write it
 * read. Each operation is recorded with its call and return times (harness/check/history.ts).
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { keyPath } from "../../src/keys/keys.ts";
import type { Listed, Recorded } from "../check/history.ts";

export interface Workload {
  clients: number;
  keys: number;
  /** Each request's bound: past it the operation is recorded with no answer ("timeout"). */
  timeoutMs: number;
  /** A pause between a client's operations, at most (a random share of it). */
  thinkMs: number;
}

export const PREFIX = "/jepsen/";
export const keyName = (i: number) => `${PREFIX}k${i}`;

/** A master the clients may use: its name in findings, and its URL while it runs. */
export interface Target {
  name: string;
  url(): string;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** What a request ended with, when it got no answer. */
function noAnswer(e: unknown): Recorded["status"] {
  const err = e as Error & { cause?: { code?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError") return "timeout";
  return err.cause?.code === "ECONNREFUSED" ? "refused" : "lost";
}

/** The history of one run, as its clients record it. */
export class History {
  readonly ops: Recorded[] = [];
  readonly lists: Listed[] = [];
  /** Content-Md5 → the value written, for reads. */
  private readonly written = new Map<string, string>();
  private readonly t0 = performance.now();
  private nextId = 0;

  now(): number {
    return performance.now() - this.t0;
  }

  /** One PUT, GET or DELETE of `key` through `to`, recorded. */
  async request(client: number, to: Target, f: Recorded["f"], key: string, value: string | undefined, timeoutMs: number): Promise<Recorded> {
    if (value !== undefined) this.written.set(md5(value), value);
    const r: Recorded = { id: ++this.nextId, client, key, via: to.name, f, value, call: this.now(), status: "lost" };
    this.ops.push(r);
    try {
      const method = f.toUpperCase();
      const res = await fetch(to.url() + keyPath(key), { method, body: value, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      r.ret = this.now();
      r.status = res.status;
      if (f === "get" && res.status === 302) {
        const hash = res.headers.get("content-md5") ?? "";
        r.value = this.written.get(hash) ?? `(no value written has md5 ${hash})`;
      }
    } catch (e) {
      r.status = noAnswer(e);
      // A request never sent has a return: it did nothing, at once.
      if (r.status === "refused") r.ret = this.now();
    }
    return r;
  }

  /** One `GET PREFIX?list` through `to`, recorded. */
  async list(client: number, to: Target, timeoutMs: number): Promise<void> {
    const l: Listed = { id: ++this.nextId, client, via: to.name, prefix: PREFIX, call: this.now() };
    this.lists.push(l);
    try {
      const res = await fetch(`${to.url()}${PREFIX}?list`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = await res.text();
      l.ret = this.now();
      if (res.status === 200) l.keys = (JSON.parse(body) as { keys: string[] }).keys;
    } catch {
      // a failed list says nothing
    }
  }
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

/** Runs `w.clients` clients until `until()` is false; every operation goes into `history`. */
export async function drive(history: History, targets: readonly Target[], w: Workload, until: () => boolean): Promise<void> {
  const client = async (c: number) => {
    for (let seq = 0; until(); seq++) {
      const to = pick(targets);
      const key = keyName(Math.floor(Math.random() * w.keys));
      const x = Math.random();
      if (x < 0.05) await history.list(c, to, w.timeoutMs);
      else if (x < 0.45) await history.request(c, to, "put", key, `${key} client ${c} write ${seq}`, w.timeoutMs);
      else if (x < 0.8) await history.request(c, to, "get", key, undefined, w.timeoutMs);
      else await history.request(c, to, "delete", key, undefined, w.timeoutMs);
      if (w.thinkMs) await new Promise((r) => setTimeout(r, Math.random() * w.thinkMs));
    }
  };
  await Promise.all(Array.from({ length: w.clients }, (_, c) => client(c)));
}
