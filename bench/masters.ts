/**
 * `npm run bench:masters`: redirects/s and thrash cycles/s of one master on LevelDB,
 * one master on PostgreSQL and two masters on one PostgreSQL, in the same run on the
 * same three volume processes (3 replicas), each master a Node `kvdb master` process;
 * and each master's peak RSS. PostgreSQL is the Debian package's server, started here
 * with fsync on (tests/pg-server.ts). Two masters are loaded by two `kvdb bench`
 * processes at once, each with half the concurrency, and their rates are added.
 * Prints a markdown table (docs/PERFORMANCE.md, "More than one master").
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { HOST, spawnKvdb, type KvdbServer as Child } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { freshDatabase, startPostgres } from "../tests/pg-server.ts";
import { kvdbBench, stepOf, type BenchOutput } from "./kvdb-bench.ts";
import { procKiB } from "./rss.ts";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 10);
const CONCURRENCY = 16;
const dir = tempDir("kvdb-bench-masters");
const pg = await startPostgres({ durable: true });
const children: Child[] = [];
const rows: string[] = [];

async function measure(label: string, db: string, masters: number): Promise<void> {
  const volumes = children.slice(0, 3).map((v) => `${HOST}:${v.port}`).join(",");
  const started: Child[] = [];
  for (let i = 0; i < masters; i++) {
    started.push(await spawnKvdb(["master", "--volumes", volumes, "--db", db, "--port", "0", "--host", HOST, "--secret", "bench-masters-secret-0123"]));
  }
  try {
    const load = (workload: string) =>
      Promise.all(started.map((m) => kvdbBench(m.url, ["--workload", workload, "--seconds", String(seconds), "--concurrency", String(CONCURRENCY / masters)], (seconds + 60) * 1000)));
    const sum = (outs: BenchOutput[], workload: string, step: string) => outs.reduce((n, o) => n + (stepOf(o, workload, step)?.opsPerSec ?? 0), 0);
    const errors = (outs: BenchOutput[]) => outs.reduce((n, o) => n + o.errors, 0);
    const redirect = await load("redirect");
    const thrash = await load("thrash");
    const rss = started.map((m) => Math.round(procKiB(m.proc.pid!, "VmHWM") / 1024));
    rows.push(
      `| ${label} | ${Math.round(sum(redirect, "redirect", "get 302"))} | ${Math.round(sum(thrash, "thrash", "cycle"))} | ${rss.join(" + ")} MiB | ${errors(redirect) + errors(thrash)} |`,
    );
    console.error(rows[rows.length - 1]);
  } finally {
    for (const m of started) await m.stop("SIGTERM");
  }
}

try {
  for (let i = 0; i < 3; i++) {
    children.push(await spawnKvdb(["volume", join(dir, `v${i}`), "--port", "0", "--host", HOST, "--secret", "bench-masters-secret-0123"]));
  }
  await measure("LevelDB, 1 master", join(dir, "index"), 1);
  await measure("PostgreSQL, 1 master", freshDatabase(pg), 1);
  await measure("PostgreSQL, 2 masters", freshDatabase(pg), 2);
  console.log(`| index | redirects/s | thrash cycles/s | master peak RSS | errors |\n|---|---|---|---|---|\n${rows.join("\n")}`);
} finally {
  for (const c of children) await c.stop("SIGTERM");
  await pg.close();
  rmSync(dir, { recursive: true, force: true });
}
