/**
 * The workload of a consistency run: concurrent clients, each one request at a time,
 * PUT/GET/DELETE of a few keys and now and then a `?list`, each to a master picked at
 * random, through the curl API (CURL) or S3 (s3-api.ts); every value unique to its
 * write, so a GET's answer names the write it read (curl: its Content-Md5; S3: the md5
 * of the whole body it got). Each operation is recorded with its call and return times
 * (harness/check/history.ts).
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { keyPath } from "../../src/keys/keys.ts";
import type { Listed, Recorded } from "../check/history.ts";
import type { Final } from "../check/lost.ts";

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

export const md5 = (s: string | Uint8Array) => createHash("md5").update(s).digest("hex");

/** A value's name in the history → its md5 → back: what a GET's answer read. */
export interface Written {
  /** The value named by the md5 of its bytes, or words saying no write wrote them. */
  named(md5: string, what?: () => string): string;
}

/** How the clients speak to the masters. */
export interface Api {
  /** The workload lists (`?list`) too. */
  lists: boolean;
  /** The bytes a PUT sends for the value named `value` (each write's name is unique: its key, client and number). */
  body(value: string): string;
  /** Sends one PUT, GET or DELETE of `key` to `to`, the body of `value` for a PUT. */
  send(to: Target, f: Recorded["f"], key: string, value: string | undefined, signal: AbortSignal): Promise<Response>;
  /** Reads the whole answer; for a GET that found a value, the value it names. */
  read(f: Recorded["f"], res: Response, written: Written): Promise<string | undefined>;
  /** What `key` holds once the run is over, read through `to` (and the volume, if it redirects); null if it cannot be read in 10 s. */
  readBack(to: Target, key: string, written: Written): Promise<Final>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `once` (undefined: not yet) until it answers, or 10 s have passed: then null. */
export async function retried(once: () => Promise<Final | "again">): Promise<Final> {
  const end = Date.now() + 10_000;
  for (;;) {
    const got = await once().catch(() => "again" as const);
    if (got !== "again") return got;
    if (Date.now() > end) return null;
    await sleep(200);
  }
}

/** The curl API: a value's bytes are its name; a GET is a 302 whose Content-Md5 names it. */
export const CURL: Api = {
  lists: true,
  body: (value) => value,
  send: (to, f, key, value, signal) => fetch(to.url() + keyPath(key), { method: f.toUpperCase(), body: value, redirect: "manual", signal }),
  async read(f, res, written) {
    await res.arrayBuffer();
    return f === "get" && res.status === 302 ? written.named(res.headers.get("content-md5") ?? "") : undefined;
  },
  readBack: (to, key) =>
    retried(async () => {
      const res = await fetch(to.url() + keyPath(key), { redirect: "manual" });
      await res.arrayBuffer();
      if (res.status === 404) return undefined;
      if (res.status !== 302) return "again";
      const value = await fetch(new URL(res.headers.get("location")!, to.url()));
      return value.status === 200 ? await value.text() : "again";
    }),
};

/** What a request ended with, when it got no answer. */
function noAnswer(e: unknown): Recorded["status"] {
  const err = e as Error & { cause?: { code?: string } };
  if (err.name === "TimeoutError" || err.name === "AbortError") return "timeout";
  return err.cause?.code === "ECONNREFUSED" ? "refused" : "lost";
}

/** The history of one run, as its clients record it. */
export class History implements Written {
  readonly ops: Recorded[] = [];
  readonly lists: Listed[] = [];
  /** The md5 of a value's bytes → its name, for reads. */
  private readonly written = new Map<string, string>();
  private readonly t0 = performance.now();
  private nextId = 0;

  constructor(readonly api: Api = CURL) {}

  named(hash: string, what = () => `md5 ${hash}`): string {
    return this.written.get(hash) ?? `(no value written has ${what()})`;
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** One PUT, GET or DELETE of `key` through `to`, recorded. */
  async request(client: number, to: Target, f: Recorded["f"], key: string, value: string | undefined, timeoutMs: number): Promise<Recorded> {
    if (value !== undefined) this.written.set(md5(this.api.body(value)), value);
    const r: Recorded = { id: ++this.nextId, client, key, via: to.name, f, value, call: this.now(), status: "lost" };
    this.ops.push(r);
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const res = await this.api.send(to, f, key, value, signal);
      const read = await this.api.read(f, res, this);
      r.ret = this.now();
      r.status = res.status;
      if (read !== undefined) r.value = read;
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
      if (x < 0.05 && history.api.lists) await history.list(c, to, w.timeoutMs);
      else if (x < 0.45) await history.request(c, to, "put", key, `${key} client ${c} write ${seq}`, w.timeoutMs);
      else if (x < 0.8) await history.request(c, to, "get", key, undefined, w.timeoutMs);
      else await history.request(c, to, "delete", key, undefined, w.timeoutMs);
      if (w.thinkMs) await new Promise((r) => setTimeout(r, Math.random() * w.thinkMs));
    }
  };
  await Promise.all(Array.from({ length: w.clients }, (_, c) => client(c)));
}
