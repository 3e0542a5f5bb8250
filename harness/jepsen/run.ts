/**
 * One run of a scenario: a real cluster on loopback (cluster.ts), the clients
 * (clients.ts, through the curl API or S3: s3-api.ts) and the nemesis (nemesis.ts) for
 * `seconds`; then every fault healed, each key read back through a master (and from its
 * volume), and the history checked (harness/check/): per-key linearizability,
 * list-after-write, acknowledged writes lost. An S3 run is held to S3's semantics
 * (history.ts S3_OBJECTS) whatever the caller asked for the curl API.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkHistory, describeChecked, describeOp } from "../check/check.ts";
import { S3_OBJECTS, type Semantics } from "../check/history.ts";
import { lostWrites, type Final } from "../check/lost.ts";
import { tempDir } from "../paths.ts";
import type { Postgres } from "../postgres.ts";
import { mountLazyFs, type LazyFs } from "../../tests/lazyfs.ts";
import { startRunCluster, type RunCluster, type Server } from "./cluster.ts";
import { CURL, drive, History, keyName, type Target, type Workload } from "./clients.ts";
import { prepare, S3 } from "./s3-api.ts";
import { nemesis, type Faulty } from "./nemesis.ts";
import type { Scenario } from "./scenarios.ts";

export interface RunOptions {
  seconds: number;
  workload: Workload;
  /** What the curl API is held to (an S3 scenario is held to S3_OBJECTS). */
  semantics: Semantics;
  /** A PostgreSQL to make each two-masters run's database in (one is started per run otherwise). */
  pg?: Postgres;
  runtime?: "node" | "binary";
}

export interface RunResult {
  scenario: string;
  /** Operations recorded (lists included). */
  ops: number;
  /** Writes that may or may not have taken effect. */
  indeterminate: number;
  /** PUTs, and those that neither stored (201) nor found the key (409): a 5xx or no answer (availability, issue 24 part 2). */
  puts: number;
  putsFailed: number;
  anomalies: number;
  lost: number;
  /** Keys the search could not decide in its budget. */
  undecided: number;
  /** Findings, smallest windows, lost writes and the nemesis's timeline; "" when all is well. */
  findings: string;
  /** Why the run did not happen, when it did not. */
  skipped?: string;
}

/** A run's figures before it ran. */
export const NOTHING = { ops: 0, indeterminate: 0, puts: 0, putsFailed: 0, anomalies: 0, lost: 0, undecided: 0, findings: "" };


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until every master sees every volume up (a restarted volume is marked up by the next health check). */
async function healed(masters: Server[], deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (const m of masters) {
    for (;;) {
      const up = await fetch(`${m.url}/_kvdb/volumes`)
        .then((r) => (r.ok ? (r.json() as Promise<{ up: boolean }[]>) : []))
        .then((vs) => vs.length > 0 && vs.every((v) => v.up))
        .catch(() => false);
      if (up) break;
      if (Date.now() > end) throw new Error(`${m.url} still sees a volume down ${deadlineMs} ms after the faults ended`);
      await sleep(100);
    }
  }
}

export async function runScenario(s: Scenario, o: RunOptions): Promise<RunResult> {
  const runtime = o.runtime ?? "node";
  let lazy: LazyFs | undefined;
  if (s.lazyfs) {
    const mount = mountLazyFs("512mb");
    if (typeof mount === "string") return { ...NOTHING, scenario: s.name, skipped: mount };
    lazy = mount;
  }
  const scratch = tempDir("kvdb-jepsen");
  const skewFile = join(scratch, "clock-offset");
  writeFileSync(skewFile, "+0\n");
  let cluster: RunCluster | undefined;
  try {
    const s3 = s.api === "s3";
    const [api, semantics] = s3 ? [S3, S3_OBJECTS] : [CURL, o.semantics];
    cluster = await startRunCluster({ index: s.index, runtime, pg: o.pg, dir: lazy?.dir, skewFile: s.fault === "clock-skew" ? skewFile : undefined, minReplicas: s.minReplicas, s3 });
    const { masters } = cluster;
    const targets: Target[] = masters.map((m, i) => ({ name: `master ${i}`, url: () => (s3 ? m.s3! : m.url) }));
    if (s3) await prepare(targets[0]);
    // Times in the history and the timeline count from here, when the load begins.
    const history = new History(api);
    const timeline: string[] = [];
    const note = (what: string) => timeline.push(`${(history.now() / 1000).toFixed(3)} s  ${what}`);
    const faulty: Faulty = { masters, volumes: cluster.volumes, pg: cluster.pg, lazy, skewFile, note };

    const end = Date.now() + o.seconds * 1000;
    const running = () => Date.now() < end;
    note(`${s.name}: ${o.workload.clients} clients, ${o.workload.keys} keys, ${o.seconds} s`);
    await Promise.all([drive(history, targets, o.workload, running), s.fault ? nemesis(s.fault, faulty, running) : undefined]);
    note("clients stopped, faults healed");
    await healed(masters);

    const finals = new Map<string, Final>();
    for (let i = 0; i < o.workload.keys; i++) finals.set(keyName(i), await api.readBack(targets[i % targets.length], keyName(i), history));
    const checked = checkHistory(history.ops, history.lists, semantics);
    const lost = lostWrites(history.ops, finals, semantics);
    const findings: string[] = [];
    if (checked.anomalies || checked.undecided) findings.push(describeChecked(checked));
    for (const p of lost) findings.push(`LOST: ${describeOp(p)}; the key holds ${finals.get(p.key) === null ? "(unreadable)" : JSON.stringify(finals.get(p.key) ?? "nothing")}`);
    if (findings.length) findings.push(`timeline:\n${timeline.map((t) => `  ${t}`).join("\n")}`);
    const puts = history.ops.filter((r) => r.f === "put");
    return {
      scenario: s.name,
      ops: history.ops.length + history.lists.length,
      indeterminate: checked.keys.reduce((n, k) => n + k.indeterminate, 0),
      puts: puts.length,
      putsFailed: puts.filter((r) => r.status !== (s3 ? 200 : 201) && r.status !== 409).length,
      anomalies: checked.anomalies,
      lost: lost.length,
      undecided: checked.undecided,
      findings: findings.join("\n"),
    };
  } finally {
    await cluster?.close();
    lazy?.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}
