/**
 * Placement: weighted rendezvous (highest-random-weight) hashing.
 * Every volume draws a score for a key; the key lives on the top scorers. Adding or
 * removing a volume only moves the keys that volume wins or held (~1/n of them),
 * and a volume with twice the weight wins about twice as often.
 */
import { first8, md5First8 } from "./md5.ts";

export interface Candidate {
  name: string;
  weight: number;
}

const utf8 = new TextEncoder();
/** Each volume's name and "\n" as UTF-8, made once (bounded: names are few, tests make many). */
const prefixes = new Map<string, Uint8Array>();
/** The message being hashed: a volume's prefix, then the key; grown when a key needs it. */
let message = new Uint8Array(4096);

function prefixOf(volume: string): Uint8Array {
  let p = prefixes.get(volume);
  if (!p) {
    if (prefixes.size > 10_000) prefixes.clear();
    p = utf8.encode(`${volume}\n`);
    prefixes.set(volume, p);
  }
  return p;
}

/**
 * A uniform draw in (0, 1) from key × volume: the first 53 bits of
 * md5("<volume>\n<key>"). This is where every stored key lives: changing it would make
 * every key "misplaced" for rebalance (tests/placement.test.ts pins it against the
 * createHash version it replaced). `key` is the key's UTF-8, at `message[prefix.length…]`.
 */
function draw(prefix: Uint8Array, key: Uint8Array): number {
  message.set(prefix, 0);
  message.set(key, prefix.length);
  md5First8(message, prefix.length + key.length);
  const bits53 = first8.hi * 2 ** 21 + (first8.lo >>> 11);
  return (bits53 + 0.5) / 2 ** 53;
}

/** The volumes in placement order for a key, best first (ties: by name). */
export function rank(key: string, volumes: readonly Candidate[]): string[] {
  const keyBytes = utf8.encode(key);
  let longest = 0;
  const prefix = volumes.map((v) => {
    const p = prefixOf(v.name);
    longest = Math.max(longest, p.length);
    return p;
  });
  if (message.length < longest + keyBytes.length + 72) message = new Uint8Array(2 * (longest + keyBytes.length + 72));
  const scores = new Float64Array(volumes.length);
  const order: number[] = new Array(volumes.length);
  for (let i = 0; i < volumes.length; i++) {
    scores[i] = volumes[i].weight / -Math.log(draw(prefix[i], keyBytes));
    order[i] = i;
  }
  order.sort((a, b) => scores[b] - scores[a] || (volumes[a].name < volumes[b].name ? -1 : 1));
  return order.map((i) => volumes[i].name);
}
