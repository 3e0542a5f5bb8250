/**
 * A/B of the master's CPU per redirect (302) and per miss (404) between builds, taking
 * turns so a shared machine's load falls on each alike: per build a cluster as `npm run
 * bench` makes one (3 volumes, 3 replicas, no secret), without a key in its index
 * (plain) and with one (auth: every request carries its Bearer token, as the
 * redirect-auth workload); per round, `wrk -t1 -c16` on each for SECONDS per path. Prints
 * the master's CPU (utime + stime from /proc, and utime alone) per request, each round
 * and the medians. Needs wrk.
 *
 *   node dist/node/bench/ab-master.js ROUNDS SECONDS NAME=RUNTIME[:COMMAND] …
 *   e.g. node dist/node/bench/ab-master.js 5 3 base=binary:../base/dist/kvdb new=binary
 *        node dist/node/bench/ab-master.js 5 3 base=node:node,--max-semi-space-size=2,../base/dist/node/mod.js new=node
 *
 * RUNTIME: node, deno or binary (harness/kvdb.ts); COMMAND, comma-separated, replaces the
 * master's (the volumes run this checkout's). MODES=plain or MODES=auth runs one of the two.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import type { Runtime } from "../harness/server-options.ts";

/** The user and system CPU seconds of process `pid`. */
function cpu(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const tick = 100; // USER_HZ, as bench/cpu.ts
  return { user: Number(fields[11]) / tick, system: Number(fields[12]) / tick };
}

const [rounds, seconds, ...specs] = process.argv.slice(2);
if (!specs.length) throw new Error("usage: ab-master.js ROUNDS SECONDS NAME=RUNTIME[:COMMAND] …");
const modes = (process.env.MODES ?? "plain,auth").split(",");
const targets: { name: string; cluster: Cluster }[] = [];
const results = new Map<string, number[]>();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

try {
  for (const spec of specs) {
    const name = spec.slice(0, spec.indexOf("="));
    const [runtime, command] = [spec.slice(name.length + 1).split(":")[0], spec.slice(name.length + 1).split(":").slice(1).join(":")];
    for (const mode of modes) {
      const cluster = await startCluster({ runtime: runtime as Runtime, volumes: 3, replicas: 3, readyTimeoutMs: 60_000, authenticated: mode === "auth", commands: command ? { master: command.split(",") } : undefined });
      targets.push({ name: `${name} ${mode}`, cluster });
      const res = await fetch(`${cluster.url}/ab/there`, { method: "PUT", body: "hello", headers: cluster.token ? { authorization: `Bearer ${cluster.token}` } : {} });
      if (res.status !== 201) throw new Error(`${name} ${mode}: PUT answered ${res.status}`);
    }
  }
  for (let r = 1; r <= Number(rounds); r++) {
    for (const { name, cluster } of targets) {
      const parts: string[] = [];
      for (const path of ["there", "missing"]) {
        const auth = cluster.token ? ["-H", `Authorization: Bearer ${cluster.token}`] : [];
        const before = cpu(cluster.master.pid);
        const out = execFileSync("wrk", ["-t1", "-c16", `-d${seconds}s`, ...auth, `${cluster.url}/ab/${path}`], { encoding: "utf8" });
        const after = cpu(cluster.master.pid);
        const n = Number(/(\d+) requests in/.exec(out)![1]);
        const all = ((after.user + after.system - before.user - before.system) * 1e6) / n;
        const user = ((after.user - before.user) * 1e6) / n;
        for (const [k, v] of [[`${name} ${path}`, all], [`${name} ${path} (user)`, user]] as const) results.set(k, [...(results.get(k) ?? []), v]);
        parts.push(`${path} ${all.toFixed(1)} µs (user ${user.toFixed(1)}), ${n} requests`);
      }
      console.log(`round ${r} ${name}: ${parts.join("; ")}`);
    }
  }
  for (const [k, v] of results) console.log(`${k.padEnd(32)} median ${median(v).toFixed(1)} µs, ${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)}`);
} finally {
  for (const t of targets) await t.cluster.close();
}
