/**
 * `npm run bench:masters`: redirects/s and thrash cycles/s of one master on LevelDB,
 * one master on PostgreSQL and two masters on one PostgreSQL, in the same run on the
 * same three volume processes (3 replicas), each master a Node `kvdb master` process;
 * and each master's peak RSS. PostgreSQL is the Debian package's server, started here
 * with fsync on (harness/postgres.ts). Two masters are loaded by two `kvdb bench`
 * processes at once, each with half the concurrency, and their rates are added.
 * Prints a markdown table (docs/PERFORMANCE.md, "More than one master").
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { tempDir } from "../harness/paths.ts";
import { freshDatabase, startPostgres } from "../harness/postgres.ts";
import { MasterServer, VolumeServer } from "../harness/servers.ts";
import { kvdbBench, stepOf, type BenchOutput } from "./kvdb-bench.ts";
import { procKiB } from "./rss.ts";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 10);
const CONCURRENCY = 16;
const dir = tempDir("kvdb-bench-masters");
const pg = await startPostgres({ durable: true });
const servers = { runtime: "node", secret: "bench-masters-secret-0123" } as const;
const volumes = [0, 1, 2].map((i) => new VolumeServer(join(dir, `v${i}`), servers));
const rows: string[] = [];

async function measure(label: string, db: string, masters: number): Promise<void> {
  const started: MasterServer[] = [];
  for (let i = 0; i < masters; i++) started.push(await new MasterServer(db, () => volumes.map((v) => v.name), servers).start());
  try {
    const load = (workload: string) =>
      Promise.all(started.map((m) => kvdbBench(m.url, ["--workload", workload, "--seconds", String(seconds), "--concurrency", String(CONCURRENCY / masters)], (seconds + 60) * 1000)));
    const sum = (outs: BenchOutput[], workload: string, step: string) => outs.reduce((n, o) => n + (stepOf(o, workload, step)?.opsPerSec ?? 0), 0);
    const errors = (outs: BenchOutput[]) => outs.reduce((n, o) => n + o.errors, 0);
    const redirect = await load("redirect");
    const thrash = await load("thrash");
    const rss = started.map((m) => Math.round(procKiB(m.pid, "VmHWM") / 1024));
    rows.push(
      `| ${label} | ${Math.round(sum(redirect, "redirect", "get 302"))} | ${Math.round(sum(thrash, "thrash", "cycle"))} | ${rss.join(" + ")} MiB | ${errors(redirect) + errors(thrash)} |`,
    );
    console.error(rows[rows.length - 1]);
  } finally {
    for (const m of started) await m.stop("SIGTERM");
  }
}

try {
  await Promise.all(volumes.map((v) => v.start()));
  await measure("LevelDB, 1 master", join(dir, "index"), 1);
  await measure("PostgreSQL, 1 master", freshDatabase(pg), 1);
  await measure("PostgreSQL, 2 masters", freshDatabase(pg), 2);
  console.log(`| index | redirects/s | thrash cycles/s | master peak RSS | errors |\n|---|---|---|---|---|\n${rows.join("\n")}`);
} finally {
  for (const v of volumes) await v.stop("SIGTERM");
  await pg.close();
  rmSync(dir, { recursive: true, force: true });
}
