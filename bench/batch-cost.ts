/**
 * What one batch exchange with a volume costs the master's process, in-process: a real
 * volume (a child process) takes batches of `--ops` small puts, one batch at a time,
 * sent three ways from this process, and the CPU this process spends per batch
 * (process.cpuUsage) is printed for each:
 *   client  VolumeClient.putSmall × ops at once: the master's way (batches.ts gathers
 *           them, encodes, signs nothing, outgoing-body.ts sends, the answer is parsed)
 *   upload  the same body through outgoing-body.ts alone
 *   bare    the same body through a bare node:http request
 * Each way first runs 200 batches unmeasured (the JIT warms up), then `--count`, over
 * `--rounds` rounds taking turns.
 *
 *   node dist/node/bench/batch-cost.js [--count 1500] [--ops 4] [--size 1KiB] [--rounds 2]
 */
import { request } from "node:http";
import { rmSync } from "node:fs";
import process from "node:process";
import { parseSize } from "../src/cli/size.ts";
import { BATCH_PATH, encodeBatch, type BatchOp } from "../src/wire/batch-wire.ts";
import { keepAlive } from "../src/runtime/keep-alive.ts";
import { VolumeClient } from "../src/master/volume-client.ts";
import { upload } from "../src/wire/outgoing-body.ts";
import { stopAll } from "../harness/children.ts";
import { VolumeServer } from "../harness/servers.ts";
import { tempDir } from "../harness/paths.ts";
import { option } from "./argv.ts";

const count = Number(option("count", "1500"));
const opsPerBatch = Number(option("ops", "4"));
const rounds = Number(option("rounds", "2"));
const size = parseSize(option("size", "1KiB")) ?? 1024;
const dir = tempDir("kvdb-batch-cost");
const headers = (body: Uint8Array) => ({ "content-type": "application/octet-stream", "content-length": String(body.byteLength) });

async function main(): Promise<void> {
  const volume = (await new VolumeServer(dir, { runtime: "node" }).start()).name;
  const client = new VolumeClient(undefined);
  const value = new Uint8Array(size).fill(7);
  let n = 0;
  /** The next batch's operations and body, under new names. */
  const next = (): { ops: BatchOp[]; body: Uint8Array; digest: string } => {
    const ops = Array.from({ length: opsPerBatch }, (_, i): BatchOp => ({ put: `/batch-cost/${n}-${i}`, size }));
    n++;
    return { ops, ...encodeBatch(ops, ops.map(() => value)) };
  };
  const ways: Record<string, () => Promise<void>> = {
    async client() {
      const base = n++;
      // Each put resolves with what the volume stored, or throws (a VolumeError).
      await Promise.all(Array.from({ length: opsPerBatch }, (_, i) => client.putSmall(volume, `/batch-cost/${base}-${i}`, value)));
    },
    async upload() {
      const { body, digest } = next();
      const call = upload(`http://${volume}${BATCH_PATH}?head=${digest}`, headers(body), 30_000, { method: "POST", answerMax: 1 << 20 });
      await call.write(body);
      const answer = await call.end();
      if (answer.status !== 200) throw new Error(`upload: ${answer.status} ${answer.body}`);
      JSON.parse(answer.body);
    },
    async bare() {
      const { body, digest } = next();
      const text = await new Promise<string>((resolve, reject) => {
        const req = request(`http://${volume}${BATCH_PATH}?head=${digest}`, { method: "POST", agent: keepAlive, headers: headers(body) }, (res) => {
          let s = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (s += d));
          res.on("end", () => (res.statusCode === 200 ? resolve(s) : reject(new Error(`bare: ${res.statusCode} ${s}`))));
        });
        req.on("error", reject);
        req.end(body);
      });
      JSON.parse(text);
    },
  };
  console.log(`batches of ${opsPerBatch} puts of ${size} bytes to one Node volume, one batch at a time; CPU of this process per batch`);
  for (let r = 1; r <= rounds; r++) {
    for (const [name, send] of Object.entries(ways)) {
      for (let i = 0; i < 200; i++) await send();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < count; i++) await send();
      const cpu = process.cpuUsage(cpu0);
      const per = (us: number) => (us / count).toFixed(0).padStart(4);
      console.log(`round ${r}  ${name.padEnd(7)} ${per(cpu.user + cpu.system)} µs (user ${per(cpu.user)}, sys ${per(cpu.system)}), ${per((performance.now() - t0) * 1000)} µs wall`);
    }
  }
}

try {
  await main();
} catch (e) {
  console.error(`batch-cost: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
