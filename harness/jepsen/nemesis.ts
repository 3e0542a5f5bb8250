/**
 * The faults of a consistency run, one at a time while the clients run: each strike
 * injects its fault, holds it, and heals it (a strike begun is always healed). What it
 * did goes into the run's timeline, to read beside a finding.
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import type { Postgres } from "../postgres.ts";
import type { Server } from "./cluster.ts";
import type { LazyFs } from "../../tests/lazyfs.ts";

export interface Faulty {
  masters: Server[];
  volumes: Server[];
  /** The index's PostgreSQL, in a two-masters run. */
  pg?: Postgres;
  /** The mount every data dir is on, in a power-cut run. */
  lazy?: LazyFs;
  /** The file libfaketime reads the skewed master's clock offset from (clock-skew.ts). */
  skewFile?: string;
  /** Notes one step in the run's timeline. */
  note(what: string): void;
}

export type Strike = (c: Faulty) => Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];
const label = (xs: readonly unknown[], x: unknown, what: string) => `${what} ${xs.indexOf(x)}`;

/** Until `m`'s Date header is `minutes` off this machine's clock (libfaketime rereads its file once a second). */
async function clockShows(m: Server, minutes: number): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(200)) {
    const res = await fetch(`${m.url}/_kvdb/volumes`).catch(() => undefined);
    await res?.arrayBuffer();
    const off = Date.parse(res?.headers.get("date") ?? "") - Date.now();
    if (Math.abs(off - minutes * 60_000) < 30_000) return;
  }
  throw new Error(`the skewed master's Date header is not ${minutes} min off after 10 s: libfaketime did not take`);
}

/** kill -9 of one of `servers`, restarted on its port with its data after `downMs`. */
async function killOne(c: Faulty, servers: Server[], what: string, downMs: number): Promise<void> {
  const s = pick(servers);
  const name = label(servers, s, what);
  c.note(`kill -9 ${name}`);
  await s.stop("SIGKILL");
  await sleep(downMs);
  await s.restart();
  c.note(`${name} restarted`);
}

export const STRIKES = {
  "kill-master": (c) => killOne(c, c.masters, "master", 1000),
  "kill-volume": (c) => killOne(c, c.volumes, "volume", 2000),
  "pause-volume": async (c) => {
    const v = pick(c.volumes);
    c.note(`SIGSTOP ${label(c.volumes, v, "volume")}`);
    process.kill(v.pid, "SIGSTOP");
    await sleep(3000);
    process.kill(v.pid, "SIGCONT");
    c.note(`SIGCONT ${label(c.volumes, v, "volume")}`);
  },
  "restart-postgres": async (c) => {
    c.note("PostgreSQL stopping (pg_ctl stop -m fast)");
    await c.pg!.stop();
    await sleep(1000);
    await c.pg!.start();
    c.note("PostgreSQL started");
  },
  "clock-skew": async (c) => {
    const minutes = pick([-5, 5]);
    c.note(`master 1's clock ${minutes > 0 ? "+" : ""}${minutes} min`);
    writeFileSync(c.skewFile!, `${minutes > 0 ? "+" : ""}${minutes * 60}\n`);
    await clockShows(c.masters[1], minutes);
    await sleep(4000);
    writeFileSync(c.skewFile!, "+0\n");
    await clockShows(c.masters[1], 0);
    c.note("master 1's clock right again");
  },
  "power-cut": async (c) => {
    c.note("power cut: kill -9 of every server, LazyFS drops what was not fsynced");
    await Promise.all([...c.masters, ...c.volumes].map((s) => s.stop("SIGKILL")));
    c.lazy!.crash();
    await Promise.all(c.volumes.map((v) => v.restart()));
    for (const m of c.masters) await m.restart();
    c.note("every server restarted");
  },
} satisfies Record<string, Strike>;

export type Fault = keyof typeof STRIKES;

/** Strikes every 1-3 s while `running()`; resolves once the last strike has healed. */
export async function nemesis(fault: Fault, c: Faulty, running: () => boolean): Promise<void> {
  while (running()) {
    await sleep(1000 + Math.random() * 2000);
    if (running()) await STRIKES[fault](c);
  }
}
