/**
 * fsyncs per acknowledged PUT (issue #10): a fresh cluster of `kvdb` processes (master +
 * 3 volumes, 3 replicas, each volume with the default inline threshold) per value size,
 * then COUNT PUTs of new keys at 1, 16 and 64 concurrent clients, in that order. Around
 * each run it reads the volumes' fsync counters (GET /_kvdb/health?counters: files,
 * directories, synced catalog batches, docs/VOLUME-STORAGE.md) and the master's
 * kvdb_index_syncs_total (GET /_kvdb/metrics), and prints each per acknowledged PUT.
 *   npm run bench:fsyncs [-- --sizes 1KiB,1MiB] [--clients 1,16,64] [--count 256] [--seconds 60]
 * A count, not a speed: a loaded machine changes how many writes share a sync a little,
 * not what is synced. Bounded: at most COUNT PUTs and SECONDS per run, loopback only.
 */
import { Agent, request } from "node:http";
import process from "node:process";
import { formatSize, parseSize } from "../src/cli/size.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};

type Kind = "file" | "dir" | "catalog";
const KINDS: Kind[] = ["file", "dir", "catalog"];

interface Syncs {
  volume: Record<Kind, number>;
  master: number;
  /** Index changes those master syncs carried. */
  changes: number;
}

/** The value of an unlabelled sample in Prometheus text. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in the master's metrics`);
  return Number(line.slice(name.length + 1));
}

async function syncs(c: Cluster): Promise<Syncs> {
  const volume = { file: 0, dir: 0, catalog: 0 };
  for (const v of c.volumes) {
    const res = await fetch(`${v.url}/_kvdb/health?counters`);
    const { fsyncs } = (await res.json()) as { fsyncs: Record<Kind, { count: number }> };
    for (const k of KINDS) volume[k] += fsyncs[k].count;
  }
  const text = await (await fetch(`${c.master.url}/_kvdb/metrics`)).text();
  return { volume, master: sample(text, "kvdb_index_syncs_total"), changes: sample(text, "kvdb_index_synced_changes_total") };
}

/** PUTs `body`; its status, and the answer's text unless it is 201. */
function put(agent: Agent, url: URL, path: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: "PUT", path, agent, headers: { "content-length": body.length } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => (text += s));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * `clients` loops PUT new keys until `count` were sent or `seconds` passed; how many
 * were acknowledged (201), and the other answers (a 503 when the master's health check
 * saw no volume up in time on an overloaded machine), which the caller reports.
 */
async function load(c: Cluster, size: number, clients: number, count: number, seconds: number): Promise<{ acked: number; refused: string[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const url = new URL(c.master.url);
  const body = Buffer.alloc(size, 7);
  const end = performance.now() + seconds * 1000;
  let sent = 0;
  let acked = 0;
  const refused: string[] = [];
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (sent < count && performance.now() < end) {
        const { status, text } = await put(agent, url, `/fsyncs/c${clients}/${sent++}`, body);
        if (status === 201) acked++;
        else refused.push(`${status} ${text.trim()}`);
      }
    }),
  );
  agent.destroy();
  return { acked, refused };
}

async function main(): Promise<void> {
  const sizes = arg("sizes", "1KiB,1MiB").split(",").map((s) => parseSize(s)!);
  const clientCounts = arg("clients", "1,16,64").split(",").map(Number);
  const count = Number(arg("count", "256"));
  const seconds = Number(arg("seconds", "60"));
  console.log("per acknowledged PUT; volume figures are the sum over its 3 replicas");
  console.log("size     clients   PUTs  volume file  dir  catalog  total | master index syncs  changes/sync");
  for (const size of sizes) {
    const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3 });
    try {
      for (const clients of clientCounts) {
        const before = await syncs(c);
        const { acked, refused } = await load(c, size, clients, count, seconds);
        const after = await syncs(c);
        const per = (n: number) => (n / acked).toFixed(2);
        const vol = KINDS.map((k) => after.volume[k] - before.volume[k]);
        const master = after.master - before.master;
        console.log(
          `${formatSize(size).padEnd(8)} ${String(clients).padStart(7)} ${String(acked).padStart(6)}  ${vol.map(per).map((s, i) => s.padStart([11, 5, 9][i])).join("")} ${per(vol[0] + vol[1] + vol[2]).padStart(6)} | ${per(master).padStart(18)} ${(master ? (after.changes - before.changes) / master : 0).toFixed(1).padStart(13)}`,
        );
        if (refused.length) console.log(`  ${refused.length} PUTs not acknowledged, e.g. ${JSON.stringify(refused[0])}`);
      }
    } finally {
      await c.close();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
