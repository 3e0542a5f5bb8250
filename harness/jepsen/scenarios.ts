/**
 * The scenarios of a consistency run: a cluster (two masters on one PostgreSQL, or one
 * master on LevelDB; three volumes, three replicas) and the fault its nemesis repeats;
 * with minReplicas, a PUT needs only that many replicas (--min-replicas: a volume down
 * should then cost no write, which the report's failed PUTs show); with api "s3", the
 * clients overwrite, read and delete objects through the masters' S3 ports (s3-api.ts).
 */
import { noFaketime } from "./clock-skew.ts";
import type { Fault } from "./nemesis.ts";

export interface Scenario {
  name: string;
  /** "postgres": two masters on one PostgreSQL; "leveldb": one master, its index in LevelDB. */
  index: "postgres" | "leveldb";
  /** None: a calm run, the baseline. */
  fault?: Fault;
  /** Every data dir on a LazyFS mount (the power cut). */
  lazyfs?: boolean;
  /** The masters' --min-replicas (default: every replica). */
  minReplicas?: number;
  /** How the clients speak: the curl API (default), or S3 (overwrites: a plain register). */
  api?: "curl" | "s3";
}

export const SCENARIOS: Scenario[] = [
  { name: "two-masters", index: "postgres" },
  { name: "two-masters/kill-master", index: "postgres", fault: "kill-master" },
  { name: "two-masters/kill-volume", index: "postgres", fault: "kill-volume" },
  { name: "two-masters/pause-volume", index: "postgres", fault: "pause-volume" },
  { name: "two-masters/kill-volume/min-replicas-2", index: "postgres", fault: "kill-volume", minReplicas: 2 },
  { name: "two-masters/restart-postgres", index: "postgres", fault: "restart-postgres" },
  { name: "two-masters/clock-skew", index: "postgres", fault: "clock-skew" },
  { name: "two-masters/kill-master/s3", index: "postgres", fault: "kill-master", api: "s3" },
  { name: "leveldb/kill-master", index: "leveldb", fault: "kill-master" },
  { name: "leveldb/power-cut", index: "leveldb", fault: "power-cut", lazyfs: true },
];

/** Why `s` cannot run on this machine, or "" (LazyFS is tried when the run mounts it). */
export function cannotRun(s: Scenario): string {
  return s.fault === "clock-skew" ? noFaketime() : "";
}

/** The scenarios `spec` names: "all", or names separated by commas. */
export function scenariosNamed(spec: string): Scenario[] {
  if (spec === "all") return SCENARIOS;
  return spec.split(",").map((name) => {
    const s = SCENARIOS.find((x) => x.name === name);
    if (!s) throw new Error(`no scenario ${JSON.stringify(name)}; there are: all, ${SCENARIOS.map((x) => x.name).join(", ")}`);
    return s;
  });
}
