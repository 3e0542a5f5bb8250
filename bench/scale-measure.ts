/**
 * What bench/scale.ts measures against a running master besides the load generator's
 * workloads: `?list` over the whole index (unpaged and paged, the master's RSS sampled
 * meanwhile), and a master job (verify, rebalance) followed for at most a window.
 */
import { readJob, startJob, type JobClientOptions } from "../src/ops/job-client.ts";
import { sampleRss, type RssSamples } from "./rss.ts";

export interface ListRun {
  keys: number;
  seconds: number;
  keysPerSec: number;
  /** True if the window ended before the last key. */
  cut: boolean;
  rss: RssSamples;
}

/** Counts the keys of an unpaged list as it streams: each key is a JSON string starting `"/`. */
async function countStreamed(body: ReadableStream<Uint8Array>, deadline: number): Promise<{ keys: number; cut: boolean }> {
  let keys = 0;
  let quote = false; // the last byte of the previous chunk was `"`
  const reader = body.getReader();
  for (;;) {
    if (performance.now() > deadline) {
      await reader.cancel();
      return { keys, cut: true };
    }
    const { value, done } = await reader.read();
    if (done) return { keys, cut: false };
    for (let i = 0; i < value.length; i++) {
      if (value[i] === 0x2f && (i ? value[i - 1] === 0x22 : quote)) keys++;
    }
    quote = value[value.length - 1] === 0x22;
  }
}

/** GET /?list (every key, one answer), for at most `seconds`. */
export async function listUnpaged(master: string, pid: number, seconds: number): Promise<ListRun> {
  const rss = sampleRss(pid);
  const t0 = performance.now();
  const res = await fetch(`${master}/?list`);
  if (res.status !== 200 || !res.body) throw new Error(`GET /?list answered ${res.status}`);
  const { keys, cut } = await countStreamed(res.body, t0 + seconds * 1000);
  const s = (performance.now() - t0) / 1000;
  return { keys, seconds: s, keysPerSec: keys / s, cut, rss: rss.stop() };
}

/** GET /?list&limit=<page>&start=<next> page after page, for at most `seconds`. */
export async function listPaged(master: string, pid: number, seconds: number, page: number): Promise<ListRun> {
  const rss = sampleRss(pid);
  const t0 = performance.now();
  let keys = 0;
  let next = "";
  let cut = false;
  do {
    if (performance.now() - t0 > seconds * 1000) {
      cut = true;
      break;
    }
    const res = await fetch(`${master}/?list&limit=${page}${next ? `&start=${encodeURIComponent(next)}` : ""}`);
    if (res.status !== 200) throw new Error(`GET /?list&limit=${page} answered ${res.status}`);
    const body = (await res.json()) as { keys: string[]; next: string };
    keys += body.keys.length;
    next = body.next;
  } while (next);
  const s = (performance.now() - t0) / 1000;
  return { keys, seconds: s, keysPerSec: keys / s, cut, rss: rss.stop() };
}

export interface JobRun {
  kind: string;
  /** Keys the job went through in the window. */
  done: number;
  total: number;
  seconds: number;
  keysPerSec: number;
  /** True if it was still running when the window ended (the master is left to run it). */
  cut: boolean;
  summary: string;
  counts: Record<string, number>;
}

/** Starts a job and follows it until it ends or `seconds` pass; keys/s over what it did. */
export async function followJob(o: JobClientOptions, seconds: number): Promise<JobRun> {
  const t0 = performance.now();
  let job = await startJob(o);
  while (job.state === "running" && performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 500));
    job = await readJob(o, job.id);
  }
  if (job.state === "failed") throw new Error(`${o.kind} failed: ${job.error ?? job.summary}`);
  const s = (performance.now() - t0) / 1000;
  const counts = (job as unknown as { counts?: Record<string, number> }).counts ?? {};
  return { kind: o.kind, done: job.done, total: job.total, seconds: s, keysPerSec: job.done / s, cut: job.state === "running", summary: job.summary, counts };
}
