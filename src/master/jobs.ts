/**
 * Long operations that run inside the master (it alone owns its index), started and
 * watched over HTTP, so `kvdb rebalance`/`kvdb verify` and a second terminal can follow:
 *   POST /_kvdb/jobs/rebalance           start (or join the one running): 202 {job}
 *   POST /_kvdb/jobs/verify[?repair=1]
 *   GET  /_kvdb/jobs/<id>                progress: {done,total,rate,eta,state,ok,summary,counts,problems}
 *   GET  /_kvdb/jobs                     every job of this master's life
 * One job runs at a time: two would fight over the same keys.
 */
import type { Hono } from "hono";
import { fail } from "../http/fail.ts";
import { requireSignature } from "../http/auth.ts";
import type { Master } from "./master.ts";
import { rebalance } from "./jobs/rebalance.ts";
import { verify } from "./jobs/verify.ts";

export interface Job {
  id: string;
  kind: "rebalance" | "verify";
  repair: boolean;
  state: "running" | "done" | "failed";
  /** Keys looked at so far, of `total` (counted when the job started). */
  done: number;
  total: number;
  started: number;
  finished?: number;
  /** Keys per second so far, and seconds left at that rate. */
  rate: number;
  eta: number;
  /** Named tallies: moved, unchanged, missing, corrupt, repaired… */
  counts: Record<string, number>;
  /** The first problems found, one line each (at most 100 kept). */
  problems: string[];
  /** All is well: nothing left wrong (after repair, for verify --repair). */
  ok: boolean;
  summary: string;
}

export type JobBody = (m: Master, job: Job) => Promise<void>;

const jobs = new WeakMap<Master, Job[]>();
let serial = 0;

export function count(job: Job, name: string, n = 1): void {
  job.counts[name] = (job.counts[name] ?? 0) + n;
}

export function problem(job: Job, line: string): void {
  count(job, "problems");
  if (job.problems.length < 100) job.problems.push(line);
}

function snapshot(job: Job): Job {
  const s = ((job.finished ?? Date.now()) - job.started) / 1000;
  const rate = s > 0 ? job.done / s : 0;
  return { ...job, rate: Math.round(rate * 10) / 10, eta: rate > 0 ? Math.max(0, Math.round((job.total - job.done) / rate)) : 0 };
}

export function startJob(m: Master, kind: Job["kind"], repair: boolean): Job {
  const list = jobs.get(m) ?? [];
  jobs.set(m, list);
  const running = list.find((j) => j.state === "running");
  if (running) return running;
  const job: Job = {
    id: `${kind}-${Date.now().toString(36)}-${++serial}`,
    kind,
    repair,
    state: "running",
    done: 0,
    total: 0,
    started: Date.now(),
    rate: 0,
    eta: 0,
    counts: {},
    problems: [],
    ok: false,
    summary: "",
  };
  list.push(job);
  const body: JobBody = kind === "rebalance" ? rebalance : verify;
  body(m, job).then(
    () => {
      job.state = "done";
      job.finished = Date.now();
    },
    (e) => {
      job.ok = false;
      job.state = "failed";
      job.finished = Date.now();
      job.summary = `${kind} failed: ${(e as Error).message}`;
      console.error(`kvdb master: ${job.summary}`);
    },
  );
  return job;
}

/**
 * Runs `fn` on every key of the index, `width` at a time, counting job.done. The index
 * is read through one LevelDB iterator (a snapshot), never loaded whole.
 */
export async function eachKey(m: Master, job: Job, width: number, fn: (key: string) => Promise<void>): Promise<void> {
  job.total = 0;
  for await (const _ of m.records.keys.keys()) job.total++;
  const it = m.records.keys.keys()[Symbol.asyncIterator]();
  let turn: Promise<unknown> = Promise.resolve();
  // classic-level iterators take one next() at a time: the workers queue for it.
  const next = (): Promise<IteratorResult<string>> => {
    const p = turn.then(() => it.next());
    turn = p.catch(() => {});
    return p;
  };
  try {
    await Promise.all(
      Array.from({ length: width }, async () => {
        for (let r = await next(); !r.done; r = await next()) {
          await fn(r.value);
          job.done++;
        }
      }),
    );
  } finally {
    await it.return?.();
  }
  job.total = Math.max(job.total, job.done);
}

export function jobRoutes(app: Hono, m: Master): void {
  // With a secret, jobs are the cluster operator's: requests must be signed (as the CLI does).
  if (m.secret) app.use("/_kvdb/jobs/*", requireSignature([m.secret], true)).use("/_kvdb/jobs", requireSignature([m.secret], true));
  app.post("/_kvdb/jobs/:kind", (c) => {
    const kind = c.req.param("kind");
    if (kind !== "rebalance" && kind !== "verify") return fail(c, 404, `no job named ${kind} (rebalance, verify)`);
    const repair = /^(1|true|yes)?$/i.test(c.req.query("repair") ?? "no");
    const job = startJob(m, kind, repair);
    if (job.kind !== kind || job.repair !== repair) return c.json({ error: `a ${job.kind} job is running`, ...snapshot(job) }, 409);
    return c.json(snapshot(job), 202);
  });
  app.get("/_kvdb/jobs", (c) => c.json((jobs.get(m) ?? []).map(snapshot)));
  app.get("/_kvdb/jobs/:id", (c) => {
    const job = (jobs.get(m) ?? []).find((j) => j.id === c.req.param("id"));
    return job ? c.json(snapshot(job)) : fail(c, 404, "no such job");
  });
}
