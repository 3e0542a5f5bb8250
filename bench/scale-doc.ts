/**
 * bench/scale.ts's figures as markdown, written into docs/PERFORMANCE.md between the
 * scale markers (in the "Ten million keys" section, outside `npm run bench`'s
 * GENERATED part); the text around the markers is written by hand.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../harness/paths.ts";
import type { Machine } from "./machine.ts";
import type { JobRun, ListRun } from "./scale-measure.ts";

export interface ScaleResult {
  keys: number;
  machine: Machine;
  client: string;
  minutes: number;
  disk_bytes: number;
  fill_seconds: number;
  index_bytes_per_key: number;
  index_bytes_per_key_uncompacted: number;
  master_start_seconds: number;
  master_rss_mib: number;
  master_rss_start_mib: number;
  master_rss_peak_mib: number;
  /** VmRSS's parts after the loads: private memory (the heap), and mapped files (LevelDB's tables). */
  master_rss_anon_mib: number;
  master_rss_file_mib: number;
  redirect_per_s: number;
  redirect_cold_per_s: number;
  missing_per_s: number;
  list_keys_per_s: number;
  list_paged_keys_per_s: number;
  list: { unpaged: ListRun; paged: ListRun };
  rebuild_keys_per_s: number;
  rebuild_seconds: number;
  verify_keys_per_s: number;
  verify: JobRun;
  verify_quick_keys_per_s: number;
  verify_quick: JobRun;
  rebalance_keys_per_s: number;
  rebalance: JobRun;
  thrash_per_s: number;
  thrash_empty_per_s: number;
  seconds_per_workload: number;
}

const BEGIN = "<!-- SCALE by `npm run bench:scale -- --doc` (bench/scale.ts): begin -->";
const END = "<!-- SCALE: end -->";

const n = (x: number) => Math.round(x).toLocaleString("en-US");
const listRow = (label: string, l: ListRun) =>
  `| ${label} | ${n(l.keys)} keys in ${l.seconds.toFixed(1)} s${l.cut ? " (window ended)" : ""} | ${n(l.keysPerSec)} | ${l.rss.idleMiB.toFixed(0)} → ${l.rss.peakMiB.toFixed(0)} MiB (median ${l.rss.medianMiB.toFixed(0)}) |`;
const jobRow = (label: string, j: JobRun) =>
  `| ${label} | ${n(j.done)} of ${n(j.total)} keys in ${j.seconds.toFixed(0)} s${j.cut ? " (window ended; the job ended with the master's restart)" : ""} | ${n(j.keysPerSec)} |`;

export function renderScale(r: ScaleResult): string {
  const m = r.machine;
  return [
    `\`npm run bench:scale -- --keys ${r.keys} --doc\`, ${m.date}, ${r.minutes.toFixed(1)} minutes in all; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, ${m.disk}, Node ${m.node}; code ${m.code}. Load from ${r.client}, ${r.seconds_per_workload} s per workload; each figure is one run (the load on the machine is in the text after this block).`,
    "",
    "| what | measured |",
    "|---|---|",
    `| keys | ${n(r.keys)} (values of 32 bytes, inline in 3 volume catalogs, 3 replicas), written by bench/scale-fill.ts in ${r.fill_seconds.toFixed(0)} s |`,
    `| \`kvdb rebuild\` | ${n(r.rebuild_keys_per_s)} keys/s (${r.rebuild_seconds.toFixed(0)} s, wall time of the command) |`,
    `| index on disk after compaction | ${r.index_bytes_per_key.toFixed(1)} bytes/key (${r.index_bytes_per_key_uncompacted.toFixed(1)} as rebuild left it) |`,
    `| master start on the index | ${r.master_start_seconds.toFixed(1)} s |`,
    `| master RSS | ${r.master_rss_start_mib.toFixed(0)} MiB just started, ${r.master_rss_mib.toFixed(0)} MiB after the loads (${r.master_rss_anon_mib.toFixed(0)} MiB private, ${r.master_rss_file_mib.toFixed(0)} MiB mapped files), VmHWM ${r.master_rss_peak_mib.toFixed(0)} MiB |`,
    `| redirect GETs of random keys | ${n(r.redirect_cold_per_s)}/s cold (master just started; the OS page cache was not dropped), ${n(r.redirect_per_s)}/s warm |`,
    `| GETs of missing keys (between existing ones) | ${n(r.missing_per_s)}/s |`,
    `| thrash cycles (PUT 1 KiB, GET, DELETE) | ${n(r.thrash_per_s)}/s with ${n(r.keys)} keys; ${n(r.thrash_empty_per_s)}/s on an empty cluster |`,
    `| data dir at the end | ${(r.disk_bytes / 2 ** 30).toFixed(2)} GiB |`,
    "",
    "| list | keys | keys/s | master RSS (start → peak) |",
    "|---|---|---|---|",
    listRow("`GET /?list` (unpaged, streamed)", r.list.unpaged),
    listRow("`GET /?list&limit=10000&start=…` page by page", r.list.paged),
    "",
    "| job (through the master's job API) | went through | keys/s |",
    "|---|---|---|",
    jobRow("verify --quick (the volumes' catalogs, no byte read)", r.verify_quick),
    jobRow("verify (re-hashes every replica on its volume)", r.verify),
    jobRow("rebalance after a 4th volume joins 3", r.rebalance),
  ].join("\n");
}

export function writeScaleDoc(r: ScaleResult): void {
  const path = join(REPO, "docs", "PERFORMANCE.md");
  const text = readFileSync(path, "utf8");
  const block = `${BEGIN}\n${renderScale(r)}\n${END}`;
  const at = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next = at >= 0 && end > at ? text.slice(0, at) + block + text.slice(end + END.length) : `${text.trimEnd()}\n\n## Ten million keys\n\n${block}\n`;
  writeFileSync(path, next);
}
