/**
 * `npm run bench:placement [-- --keys N] [--volumes V] [--zones Z] [--json]`: placement
 * at 1,000 volumes, simulated with the master's own functions (no servers): a key's
 * replicas are the first 3 of spreadByZone(rank(key, volumes)), as
 * src/master/volumes.ts places them. Volumes of mixed capacities (70% weight 1, 20%
 * weight 2, 10% weight 4), in Z zones (racks). Reports
 *   - each volume's replicas against its weight's share (max deviation, and per weight);
 *   - the fraction of replicas that move when one volume is added, one removed, and one
 *     doubles its capacity, against the ideal (the changed volume's share);
 *   - what rank() costs per key (every PUT and every rebalance step calls it once),
 *     and what the createHash version it replaced cost.
 * The scenarios rank only the first PREFIX volumes of each key's order plus the changed
 * one: rendezvous scores are per volume, so a subset keeps the full order's relative
 * order, and the result is exact while that prefix holds 3 zones (checked per key).
 */
import process from "node:process";
import { rank, type Candidate } from "../src/keys/placement.ts";
import { spreadByZone } from "../src/keys/zones.ts";
import { rankWithCreateHash } from "../harness/placement-reference.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`bench:placement: --${name} needs a positive integer`);
    process.exit(2);
  }
  return n;
}

const KEYS = option("keys", 100_000);
const VOLUMES = option("volumes", 1000);
const ZONES = option("zones", 50);
const REPLICAS = 3;
const PREFIX = 24;
const json = process.argv.includes("--json");

const weightOf = (i: number) => (i % 10 === 0 ? 4 : i % 10 <= 2 ? 2 : 1);
const volumes: Candidate[] = Array.from({ length: VOLUMES }, (_, i) => ({ name: `10.${i % ZONES}.${i >> 8}.${i & 255}:3001`, weight: weightOf(i) }));
const zone = new Map(volumes.map((v, i) => [v.name, `rack${i % ZONES}`]));
const added: Candidate = { name: "10.250.0.1:3001", weight: 1 };
zone.set(added.name, "rack0");
const zoneOf = (v: string) => zone.get(v)!;
const removed = volumes[1]; // weight 2
const doubled = volumes[3]; // weight 1 → 2
const weight = new Map(volumes.map((v) => [v.name, v.weight]));
const totalWeight = volumes.reduce((n, v) => n + v.weight, 0);

const place = (order: string[]) => spreadByZone(order, zoneOf).slice(0, REPLICAS);
const zonesIn = (order: string[]) => new Set(order.map(zoneOf)).size;
const movedBetween = (before: string[], after: string[]) => after.filter((v) => !before.includes(v)).length;

const fill = new Map(volumes.map((v) => [v.name, 0]));
const moved = { add: 0, remove: 0, double: 0 };
let inexact = 0;
let rankMs = 0;
const t0 = performance.now();
for (let k = 0; k < KEYS; k++) {
  const key = `/sim/${k}`;
  const r0 = performance.now();
  const full = rank(key, volumes);
  rankMs += performance.now() - r0;
  const placed = place(full);
  for (const v of placed) fill.set(v, fill.get(v)! + 1);

  const prefix = full.slice(0, PREFIX).map((name) => ({ name, weight: weight.get(name)! }));
  const scenarios = {
    add: rank(key, [...prefix, added]),
    remove: rank(key, prefix.filter((v) => v.name !== removed.name)),
    double: rank(key, [...prefix.filter((v) => v.name !== doubled.name), { ...doubled, weight: doubled.weight * 2 }]),
  };
  for (const [name, order] of Object.entries(scenarios) as [keyof typeof moved, string[]][]) {
    if (zonesIn(order.slice(0, PREFIX - 1)) < REPLICAS) inexact++;
    moved[name] += movedBetween(placed, place(order));
  }
}
const seconds = (performance.now() - t0) / 1000;

// The cost of one rank() at this many volumes, now and with the createHash version: CPU
// time of this process (on a shared machine, wall time also counts others' work).
const SAMPLE = Math.min(2000, KEYS);
const time = (f: (key: string, v: readonly Candidate[]) => string[]) => {
  const s = process.cpuUsage();
  for (let k = 0; k < SAMPLE; k++) f(`/cost/${k}`, volumes);
  const used = process.cpuUsage(s);
  return (used.user + used.system) / SAMPLE;
};
const oldUs = time(rankWithCreateHash);
const newUs = time(rank);

// Fill against weight.
const replicas = KEYS * REPLICAS;
let maxDeviation = 0;
const byWeight = new Map<number, { got: number; want: number; n: number }>();
for (const v of volumes) {
  const want = (replicas * v.weight) / totalWeight;
  const got = fill.get(v.name)!;
  maxDeviation = Math.max(maxDeviation, Math.abs(got - want) / want);
  const w = byWeight.get(v.weight) ?? { got: 0, want: 0, n: 0 };
  byWeight.set(v.weight, { got: w.got + got, want: w.want + want, n: w.n + 1 });
}
// What chance alone gives a weight-1 volume: one standard deviation of its count.
const noise = 1 / Math.sqrt((replicas * 1) / totalWeight);
const ideal = {
  add: added.weight / (totalWeight + added.weight),
  remove: removed.weight / totalWeight,
  double: (2 * doubled.weight) / (totalWeight + doubled.weight) - doubled.weight / totalWeight,
};

const result = {
  keys: KEYS,
  volumes: VOLUMES,
  zones: ZONES,
  replicas: REPLICAS,
  seconds,
  max_fill_deviation: maxDeviation,
  fill_noise_sigma_weight1: noise,
  fill_by_weight: Object.fromEntries([...byWeight].sort(([a], [b]) => a - b).map(([w, s]) => [w, { volumes: s.n, fill_over_share: s.got / s.want }])),
  moved: Object.fromEntries(Object.entries(moved).map(([k, n]) => [k, { fraction: n / replicas, ideal: ideal[k as keyof typeof ideal], ratio: n / replicas / ideal[k as keyof typeof ideal] }])),
  inexact_scenarios: inexact,
  rank_us_per_key: newUs,
  rank_us_per_key_createhash: oldUs,
  rank_us_per_key_in_run: (rankMs / KEYS) * 1000,
};

if (json) console.log(JSON.stringify(result));
else {
  const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
  console.log(`placement of ${KEYS} keys × ${REPLICAS} replicas on ${VOLUMES} volumes in ${ZONES} zones (weights 1, 2, 4: 70/20/10%), ${seconds.toFixed(1)} s`);
  console.log(`fill: max deviation of one volume from its weight's share ${pct(maxDeviation)} (chance alone: σ ${pct(noise)} for a weight-1 volume)`);
  for (const [w, s] of Object.entries(result.fill_by_weight)) console.log(`  weight ${w}: ${s.volumes} volumes hold ${(s.fill_over_share * 100).toFixed(2)}% of their share`);
  for (const [k, m] of Object.entries(result.moved)) console.log(`${k.padEnd(7)} one volume: ${pct(m.fraction)} of replicas moved, ideal ${pct(m.ideal)}, ${m.ratio.toFixed(3)}× ideal`);
  console.log(`rank() per key at ${VOLUMES} volumes: ${newUs.toFixed(0)} µs of CPU (the createHash version: ${oldUs.toFixed(0)} µs), each PUT and each rebalance step; ${inexact} scenario results not exact (a prefix with fewer than ${REPLICAS} zones)`);
}
