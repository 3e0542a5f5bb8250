/**
 * `kvdb rebalance` and `kvdb verify`: start the job on the master (which alone owns the
 * index), then poll its progress until it ends. A bar on a TTY, one summary line always;
 * exit 0 only if the job says all is well.
 */
import { runtime } from "../runtime/mod.ts";
import { signUrl } from "../signing/signing.ts";
import { barLine, Bar } from "./progress.ts";

export interface JobView {
  id: string;
  kind: string;
  state: "running" | "done" | "failed";
  done: number;
  total: number;
  rate: number;
  eta: number;
  ok: boolean;
  summary: string;
  problems: string[];
  error?: string;
}

export interface JobClientOptions {
  master: string;
  kind: "rebalance" | "verify";
  repair?: boolean;
  /** verify --quick: catalogs only, no re-hash. */
  quick?: boolean;
  secret?: string;
  /** An admin key's token, when the master authenticates (--token, KVDB_TOKEN). */
  token?: string;
}

/** The Authorization header of a command given a key's token (--token, KVDB_TOKEN). */
export const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

function url(o: JobClientOptions, path: string, method: string, query: Record<string, string> = {}): string {
  const base = /^https?:\/\//.test(o.master) ? o.master : `http://${o.master}`;
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return o.secret ? signUrl(o.secret, method, u.href, 300) : u.href;
}

async function json(res: Response): Promise<JobView> {
  const text = await res.text();
  try {
    return JSON.parse(text) as JobView;
  } catch {
    throw new Error(`master answered ${res.status}: ${text.trim().slice(0, 200)}`);
  }
}

/** Starts the job on the master (or joins the same one running): its first progress. */
export async function startJob(o: JobClientOptions): Promise<JobView> {
  const query = { ...(o.repair ? { repair: "1" } : {}), ...(o.quick ? { quick: "1" } : {}) };
  const started = await runtime.call(url(o, `/_kvdb/jobs/${o.kind}`, "POST", query), { method: "POST", timeoutMs: 10_000, headers: bearer(o.token) });
  const job = await json(started);
  if (started.status === 409) throw new Error(`${job.error ?? "another job is running"} (${job.id}); wait for it to end`);
  if (started.status !== 202) throw new Error(`master answered ${started.status}: ${job.error ?? ""}`);
  return job;
}

/** The job's progress now. */
export async function readJob(o: JobClientOptions, id: string): Promise<JobView> {
  const res = await runtime.call(url(o, `/_kvdb/jobs/${encodeURIComponent(id)}`, "GET"), { timeoutMs: 10_000, headers: bearer(o.token) });
  if (res.status !== 200) throw new Error(`lost the job: master answered ${res.status} (was it restarted? run again)`);
  return json(res);
}

/** Runs the job; resolves to the process exit code (0 all well, 1 not). */
export async function runJob(o: JobClientOptions): Promise<number> {
  let job = await startJob(o);
  const bar = new Bar();
  const label = o.kind + (o.quick ? " --quick" : "") + (o.repair ? " --repair" : "");
  for (;;) {
    bar.update(barLine(label, job.done, job.total, job.rate, job.eta));
    if (job.state !== "running") break;
    await new Promise((r) => setTimeout(r, bar.live ? 250 : 500));
    job = await readJob(o, job.id);
  }
  bar.clear();
  for (const p of job.problems ?? []) console.error(`  ${p}`);
  console.log(job.summary || `${label}: ${job.state}`);
  return job.state === "done" && job.ok ? 0 : 1;
}
