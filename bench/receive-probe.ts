/**
 * `npm run bench:receive`: what it costs a volume's runtime to take a body off the
 * socket into a file, by the way it serves: Bun.serve against Bun's node:http (and
 * Node's, for reference), with and without an md5 of the bytes (a direct write's
 * secondaries take the md5 from a trailer, which only node:http lets them read).
 * Each server (bench/receive-server.ts, one process) takes `--count` PUTs of a
 * `--size` file sent by `curl -T` (with Expect: 100-continue, as a client of a direct
 * write sends it); the figure is the server process's user + system CPU (/proc) per MB.
 * The servers take turns, `--rounds` times, so a busy moment of a shared machine hits all.
 *   npm run bench:receive [-- --size 256MiB --count 4 --rounds 2]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { randomBytes } from "node:crypto";
import { startChild, stopAll } from "../harness/children.ts";
import { freePort } from "../harness/kvdb.ts";
import { REPO, tempDir } from "../harness/paths.ts";
import { parseSize } from "../src/cli/size.ts";
import { processCpuSeconds } from "./cpu.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const size = parseSize(arg("size", "256MiB")) ?? 0;
const count = Number(arg("count", "4"));
const rounds = Number(arg("rounds", "2"));
if (!size || !(count >= 1 && count <= 100) || !(rounds >= 1 && rounds <= 20)) {
  console.error("bench:receive: --size must be a size, --count 1–100, --rounds 1–20");
  process.exit(2);
}

const bun = join(REPO, "node_modules", ".bin", "bun");
const SERVERS: { name: string; command: string[] }[] = [
  { name: "Bun, Bun.serve", command: [bun, join(REPO, "bench", "receive-server.ts"), "bun.serve"] },
  { name: "Bun, node:http", command: [bun, join(REPO, "bench", "receive-server.ts"), "node:http"] },
  { name: "Node, node:http", command: [process.execPath, join(REPO, "dist", "node", "bench", "receive-server.js"), "node:http"] },
];

const dir = tempDir("kvdb-receive");
const file = join(dir, "value");
// Random bytes, written once: 1 MiB repeated (the receiver neither cares nor compresses).
const block = randomBytes(1 << 20);
writeFileSync(file, Buffer.alloc(0));
for (let left = size; left > 0; left -= block.length) writeFileSync(file, left >= block.length ? block : block.subarray(0, left), { flag: "a" });

async function measure(command: string[], hashing: "md5" | "none"): Promise<number> {
  const port = await freePort();
  const out = join(dir, "out");
  mkdirSync(out, { recursive: true });
  const { child } = await startChild([...command, String(port), hashing, out], /listening on/);
  try {
    const url = `http://127.0.0.1:${port}/value`;
    const before = processCpuSeconds(child.proc.pid!);
    for (let i = 0; i < count; i++) {
      const code = execFileSync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue", "-T", file, url], { encoding: "utf8" });
      if (code !== "201") throw new Error(`PUT answered ${code}`);
    }
    return ((processCpuSeconds(child.proc.pid!) - before) * 1000) / ((count * size) / 1e6);
  } finally {
    await child.stop();
  }
}

try {
  const figures = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const hashing of ["none", "md5"] as const) {
      for (const s of SERVERS) {
        const label = `${s.name}, ${hashing === "md5" ? "md5 of the bytes" : "no hash"}`;
        const ms = await measure(s.command, hashing);
        figures.set(label, [...(figures.get(label) ?? []), ms]);
        console.log(`round ${r + 1}: ${label}: ${ms.toFixed(2)} ms CPU per MB`);
      }
    }
  }
  console.log(`\n| server, body | ms of CPU per MB (each round) |\n|---|---|`);
  for (const [label, ms] of figures) console.log(`| ${label} | ${ms.map((v) => v.toFixed(2)).join(", ")} |`);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
