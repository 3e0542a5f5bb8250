/**
 * rank() as it was before src/keys/md5.ts: one createHash per volume per key. Every key
 * stored before then lives where this says; tests/placement.test.ts checks that rank()
 * still agrees with it, and bench/placement-sim.ts times the two.
 */
import { createHash } from "node:crypto";
import type { Candidate } from "../src/keys/placement.ts";

export function rankWithCreateHash(key: string, volumes: readonly Candidate[]): string[] {
  const draw = (volume: string) => {
    const d = createHash("md5").update(volume).update("\n").update(key).digest();
    return (d.readUInt32BE(0) * 2 ** 21 + (d.readUInt32BE(4) >>> 11) + 0.5) / 2 ** 53;
  };
  return volumes
    .map((v) => ({ name: v.name, score: v.weight / -Math.log(draw(v.name)) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1))
    .map((v) => v.name);
}
