/**
 * Unit tests of placement (weighted rendezvous hashing): every volume once, a fixed
 * order per key, shares in proportion to weights, and ~1/n of keys moved per change.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { rankWithCreateHash } from "../harness/placement-reference.ts";
import { first8, md5First8 } from "../src/keys/md5.ts";
import { rank, type Candidate } from "../src/keys/placement.ts";

const N = 10_000;
const KEYS = Array.from({ length: N }, (_, i) => `/bucket/object-${i}.bin`);
const equal = (names: string[]): Candidate[] => names.map((name) => ({ name, weight: 1 }));
const FOUR = ["10.0.0.1:3001", "10.0.0.2:3001", "10.0.0.3:3001", "10.0.0.4:3001"];

function primaries(volumes: Candidate[]): Map<string, string> {
  return new Map(KEYS.map((k) => [k, rank(k, volumes)[0]]));
}

function shares(placed: Map<string, string>, names: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const v of placed.values()) out[v]++;
  for (const n of names) out[n] /= placed.size;
  return out;
}

// ---------------------------------------------------------------- rank

test("rank returns every volume exactly once", () => {
  for (const k of KEYS.slice(0, 200)) {
    const r = rank(k, equal(FOUR));
    assert.is(r.length, 4);
    assert.equal([...r].sort(), [...FOUR].sort());
  }
  assert.equal(rank("/k", []), []);
  assert.equal(rank("/k", equal(["only:1"])), ["only:1"]);
});

test("rank is deterministic and does not depend on the order volumes are listed in", () => {
  const reversed = equal([...FOUR].reverse());
  const shuffled = equal([FOUR[2], FOUR[0], FOUR[3], FOUR[1]]);
  for (const k of KEYS.slice(0, 1000)) {
    const r = rank(k, equal(FOUR));
    assert.equal(rank(k, equal(FOUR)), r, k);
    assert.equal(rank(k, reversed), r, k);
    assert.equal(rank(k, shuffled), r, k);
  }
  // Known answers pin the hash: changing it would move every stored key.
  const pinned: [string, string][] = [
    ["/bucket/object-0.bin", "1234"],
    ["/bucket/object-1.bin", "3142"],
    ["/bucket/object-2.bin", "4132"],
    ["/a", "4312"],
  ];
  for (const [k, order] of pinned) {
    assert.is(rank(k, equal(FOUR)).map((n) => n.slice(7, 8)).join(""), order, k);
  }
});

test("different keys get different orders (not one fixed order)", () => {
  const orders = new Set(KEYS.slice(0, 500).map((k) => rank(k, equal(FOUR)).join(" ")));
  assert.ok(orders.size >= 20, `only ${orders.size} distinct orders of 24`);
});

test("10 000 keys over 4 equal volumes: each is primary for 25% ± 3%", () => {
  const s = shares(primaries(equal(FOUR)), FOUR);
  console.log(`    primary shares: ${FOUR.map((n) => `${n}=${(s[n] * 100).toFixed(1)}%`).join(" ")}`);
  for (const n of FOUR) assert.ok(Math.abs(s[n] - 0.25) <= 0.03, `${n}: ${s[n]}`);
});

test("10 000 keys over 4 equal volumes: every position of the order is balanced too", () => {
  // Replica 2 and 3 must spread as evenly as the primary, or --replicas skews disk use.
  for (const pos of [1, 2]) {
    const count: Record<string, number> = Object.fromEntries(FOUR.map((n) => [n, 0]));
    for (const k of KEYS) count[rank(k, equal(FOUR))[pos]]++;
    for (const n of FOUR) assert.ok(Math.abs(count[n] / N - 0.25) <= 0.03, `position ${pos}, ${n}: ${count[n] / N}`);
  }
});

test("weights 1:2 → shares ≈ 1/3 : 2/3", () => {
  const vols = [
    { name: "small:1", weight: 1 },
    { name: "big:2", weight: 2 },
  ];
  const s = shares(primaries(vols), ["small:1", "big:2"]);
  console.log(`    weighted shares: small=${(s["small:1"] * 100).toFixed(1)}% big=${(s["big:2"] * 100).toFixed(1)}%`);
  assert.ok(Math.abs(s["small:1"] - 1 / 3) <= 0.03, `small: ${s["small:1"]}`);
  assert.ok(Math.abs(s["big:2"] - 2 / 3) <= 0.03, `big: ${s["big:2"]}`);
});

test("weights 1:1:2 (disk sizes in GiB, say 100:100:200) → ¼ : ¼ : ½", () => {
  const vols = [
    { name: "a:1", weight: 100 },
    { name: "b:1", weight: 100 },
    { name: "c:1", weight: 200 },
  ];
  const s = shares(primaries(vols), ["a:1", "b:1", "c:1"]);
  assert.ok(Math.abs(s["a:1"] - 0.25) <= 0.03, `a: ${s["a:1"]}`);
  assert.ok(Math.abs(s["b:1"] - 0.25) <= 0.03, `b: ${s["b:1"]}`);
  assert.ok(Math.abs(s["c:1"] - 0.5) <= 0.03, `c: ${s["c:1"]}`);
});

test("adding a 5th volume moves ≈ 1/5 of primaries, all onto the new volume", () => {
  const FIVE = [...FOUR, "10.0.0.5:3001"];
  const before = primaries(equal(FOUR));
  const after = primaries(equal(FIVE));
  let moved = 0;
  for (const k of KEYS) {
    if (before.get(k) === after.get(k)) continue;
    moved++;
    assert.is(after.get(k), "10.0.0.5:3001", `${k} moved between two old volumes`);
  }
  const fraction = moved / N;
  console.log(`    adding a 5th volume moved ${moved} of ${N} primaries (${(fraction * 100).toFixed(1)}%)`);
  assert.ok(fraction >= 0.15 && fraction <= 0.25, `moved fraction ${fraction}`);
  // Stronger: the old volumes keep their relative order for every key.
  for (const k of KEYS.slice(0, 2000)) {
    assert.equal(
      rank(k, equal(FIVE)).filter((n) => n !== "10.0.0.5:3001"),
      rank(k, equal(FOUR)),
      k,
    );
  }
});

test("removing a volume moves only the keys it held", () => {
  const THREE = FOUR.slice(0, 3);
  const before = primaries(equal(FOUR));
  const after = primaries(equal(THREE));
  let moved = 0;
  for (const k of KEYS) {
    if (before.get(k) === FOUR[3]) {
      moved++;
      assert.ok(THREE.includes(after.get(k)!));
    } else {
      assert.is(after.get(k), before.get(k), `${k} moved though its volume stayed`);
    }
  }
  assert.ok(Math.abs(moved / N - 0.25) <= 0.03, `moved ${moved / N}`);
});

test("changing one volume's weight moves keys only to or from that volume", () => {
  const base = equal(FOUR);
  const heavier = base.map((v, i) => (i === 0 ? { ...v, weight: 2 } : v));
  const before = primaries(base);
  const after = primaries(heavier);
  let gained = 0;
  for (const k of KEYS) {
    if (before.get(k) === after.get(k)) continue;
    assert.is(after.get(k), FOUR[0], `${k} moved between two unchanged volumes`);
    gained++;
  }
  // Weight 2 of 5 total: ≈ 40% of primaries, up from 25%.
  const s = shares(after, FOUR);
  assert.ok(Math.abs(s[FOUR[0]] - 0.4) <= 0.03, `heavier volume share ${s[FOUR[0]]}`);
  assert.ok(gained > 0);
});

// ---------------------------------------------------------------- the plain-JS md5

test("md5First8 gives the first 8 bytes of md5 for every length 0–300 and for 1 KiB+", () => {
  const buf = new Uint8Array(4096);
  for (const len of [...Array.from({ length: 301 }, (_, i) => i), 1023, 1024, 1080, 2000]) {
    for (let i = 0; i < len; i++) buf[i] = (i * 131 + len * 7) & 0xff;
    const want = createHash("md5").update(buf.subarray(0, len)).digest();
    md5First8(buf, len);
    assert.is(first8.hi, want.readUInt32BE(0), `length ${len}`);
    assert.is(first8.lo, want.readUInt32BE(4), `length ${len}`);
  }
});

test("rank places 2,000 keys exactly as the createHash version did (200 volumes of mixed weights, odd keys and names)", () => {
  const volumes: Candidate[] = Array.from({ length: 200 }, (_, i) => ({
    name: i % 50 === 0 ? `vólume-${i}.example:3001` : `10.0.${i >> 8}.${i & 255}:${3001 + (i % 3)}`,
    weight: i % 10 === 0 ? 4e12 : i % 5 === 0 ? 2e12 : 1e12,
  }));
  for (let k = 0; k < 2000; k++) {
    // Plain keys, non-ASCII ones, and keys long enough for 2 to 17 md5 blocks (up to 1024 bytes).
    const key = k % 5 === 0 ? `/é€😀/${"x".repeat(k % 1010)}` : k % 5 === 1 ? `/${"k".repeat((k * 7) % 1023)}` : `/bucket/object-${k}.bin`;
    assert.equal(rank(key, volumes), rankWithCreateHash(key, volumes), key);
  }
});

test("rank agrees with the createHash version on small sets, ties and empty lists", () => {
  for (const k of KEYS.slice(0, 500)) {
    assert.equal(rank(k, equal(FOUR)), rankWithCreateHash(k, equal(FOUR)));
    assert.equal(rank(k, [{ name: "a:1", weight: 0 }, { name: "b:1", weight: 0 }]), rankWithCreateHash(k, [{ name: "a:1", weight: 0 }, { name: "b:1", weight: 0 }]));
  }
});

test.run();
