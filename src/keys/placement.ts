/**
 * Placement: weighted rendezvous (highest-random-weight) hashing.
 * Every volume draws a score for a key; the key lives on the top scorers. Adding or
 * removing a volume only moves the keys that volume wins or held (~1/n of them),
 * and a volume with twice the weight wins about twice as often.
 */
import { createHash } from "node:crypto";

export interface Candidate {
  name: string;
  weight: number;
}

/** A uniform draw in (0, 1) from key × volume. */
function draw(key: string, volume: string): number {
  const d = createHash("md5").update(volume).update("\n").update(key).digest();
  const bits53 = d.readUInt32BE(0) * 2 ** 21 + (d.readUInt32BE(4) >>> 11);
  return (bits53 + 0.5) / 2 ** 53;
}

/** The volumes in placement order for a key, best first. */
export function rank(key: string, volumes: readonly Candidate[]): string[] {
  return volumes
    .map((v) => ({ name: v.name, score: v.weight / -Math.log(draw(key, v.name)) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1))
    .map((v) => v.name);
}
