/**
 * `kvdb status`: the master's GET /_kvdb/status.json, printed for a terminal (or as
 * it came, with --json). Exit 0 when the cluster is healthy, 1 when degraded or failing.
 */
import process from "node:process";
import { alignTable } from "../cli/table.ts";
import { humanSize } from "../cli/size.ts";
import type { Job } from "../master/jobs/job.ts";
import type { StatusFacts } from "../master/status/facts.ts";
import { runtime } from "../runtime/mod.ts";
import { bearer } from "./job-client.ts";

function ago(ms: number | null): string {
  return ms === null ? "never" : `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago`;
}

function seconds(s: number | null): string {
  return s === null ? "-" : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
}

function job(j: Job | null): string {
  return j ? `${j.summary || `${j.kind} ${j.state}`}${j.finished ? ` (${ago(j.finished)})` : ""}` : "none since the master started";
}

export function renderStatus(s: StatusFacts): string {
  const volumes = alignTable(
    ["volume", "zone", "state", "last answer", "latency", "used", "total", "keys", "runtime"],
    s.volumes.map((v) => [
      v.name,
      v.zone,
      v.up ? "up" : `DOWN (${v.error})`,
      ago(v.lastAnswer),
      v.up ? `${v.latencyMs} ms` : "-",
      humanSize(v.total - v.free),
      humanSize(v.total),
      String(v.keys),
      v.runtime ? `${v.runtime} ${v.version}` : "-",
    ]),
    (i) => i >= 4 && i <= 7,
  );
  const { keys } = s.replication;
  const t = s.traffic;
  const c = s.config;
  return [
    `${s.health.state.toUpperCase()}: ${s.health.message}`,
    "",
    volumes.trimEnd(),
    "",
    `capacity     ${humanSize(s.capacity.free)} free of ${humanSize(s.capacity.total)}; ${s.capacity.volumesUp} of ${s.capacity.volumes} volumes up in ${s.capacity.zones} zones`,
    `keys         ${keys.live} live, ${keys.unlinked} unlinked, ${keys.writing} writing, ${keys.deleting} deleting`,
    `replication  ${s.replication.owedDelete} replicas owed a delete, ${s.replication.underReplicated} keys owed replicas, ${s.replication.pending} operations in flight or interrupted`,
    `last verify  ${job(s.replication.lastVerify)}`,
    `rebalance    ${job(s.replication.lastRebalance)}`,
    `traffic      ${t.requestsPerSecond} requests/s, ${(100 * t.errorRate).toFixed(1)}% 5xx, p50 ${seconds(t.p50)}, p99 ${seconds(t.p99)} (last ${t.windowSeconds} s)`,
    ...s.jobs.map((j) => `running      ${j.kind}: ${j.done} of ${j.total} keys, ${j.rate}/s, ETA ${j.eta} s`),
    `config       ${c.replicas} replicas${c.minReplicas < c.replicas ? ` (${c.minReplicas} acknowledge a write)` : ""}, secret ${c.secret ? "on" : "OFF"}, proxy ${c.proxy ? "on" : "off"}, kvdb ${c.version} on ${c.runtime}, up ${c.uptimeSeconds} s`,
  ].join("\n") + "\n";
}

/** Prints the status; resolves to the exit code. `token`: a monitor or admin key's, when the master authenticates. */
export async function printStatus(master: string, json: boolean, token?: string): Promise<number> {
  const base = /^https?:\/\//.test(master) ? master : `http://${master}`;
  let res: Response;
  try {
    res = await runtime.call(new URL("/_kvdb/status.json", base).href, { timeoutMs: 10_000, headers: bearer(token) });
  } catch (e) {
    throw new Error(`cannot reach the master at ${base}: ${(e as Error).message}`);
  }
  if (res.status !== 200) throw new Error(`master answered ${res.status}: ${(await res.text()).trim().slice(0, 200)}`);
  const text = await res.text();
  const facts = JSON.parse(text) as StatusFacts;
  process.stdout.write(json ? text + "\n" : renderStatus(facts));
  return facts.health.state === "ok" ? 0 : 1;
}
