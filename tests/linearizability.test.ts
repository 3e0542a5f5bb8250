/**
 * The consistency checker (harness/check/) on histories written by hand and generated:
 * ones that must pass, ones that must fail (one corrupted on purpose), the smallest
 * window it prints, today's semantics against SPEC.md's, and list-after-write; then S3's
 * plain register (overwrites), the same way, and its acknowledged writes lost.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkHistory, describeChecked } from "../harness/check/check.ts";
import { S3_OBJECTS, SPEC, type Listed, type Recorded, type Semantics } from "../harness/check/history.ts";
import { lostWrites } from "../harness/check/lost.ts";

type Status = Recorded["status"];
let ids = 0;
/** One operation of key /k: [call, return] (return undefined: no answer). */
function op(f: Recorded["f"], status: Status, call: number, ret: number | undefined, value?: string, key = "/k"): Recorded {
  return { id: ++ids, client: ids, key, via: "m0", f, status, call, ret, value };
}
const put = (value: string, status: Status, call: number, ret?: number) => op("put", status, call, ret, value);
const get = (value: string | undefined, call: number, ret: number) => op("get", value === undefined ? 404 : 302, call, ret, value);
const del = (status: Status, call: number, ret?: number) => op("delete", status, call, ret);

const check = (history: Recorded[], s: Semantics = SPEC, lists: Listed[] = []) => checkHistory(history, lists, s);
const passes = (history: Recorded[], s: Semantics = SPEC) => check(history, s).anomalies === 0;

test("a sequential history passes; a read of a value never written fails", () => {
  const h = [put("a", 201, 0, 1), get("a", 2, 3), put("b", 409, 4, 5), del(204, 6, 7), get(undefined, 8, 9), del(404, 10, 11), put("b", 201, 12, 13)];
  assert.ok(passes(h));
  assert.not.ok(passes([...h, get("zzz", 14, 15)]));
});

test("concurrent PUTs: the reads must name the one that got 201", () => {
  const h = [put("a", 201, 0, 10), put("b", 409, 1, 9)];
  assert.ok(passes([...h, get("a", 11, 12)]));
  assert.not.ok(passes([...h, get("b", 11, 12)]));
  // A read during both may see either state the 201 leaves: absent or "a".
  assert.ok(passes([...h, get(undefined, 2, 3), get("a", 4, 5)]));
  assert.not.ok(passes([...h, get("a", 2, 3), get(undefined, 4, 5)]), "no DELETE: once read, the value stays");
});

test("a stale read after a DELETE fails, and the window printed is the DELETE and the read", () => {
  const c = check([put("a", 201, 0, 1), get("a", 2, 3), del(204, 4, 5), get("a", 6, 7)]);
  assert.is(c.anomalies, 1);
  const w = c.keys[0].window!;
  assert.equal(
    w.ops.map((o) => `${o.from.f} ${o.from.status}`),
    ["delete 204", "get 302"],
  );
  const text = describeChecked(c);
  assert.match(text, /\/k: NOT LINEARIZABLE\. No order of these 2 operations/);
  assert.match(text, /DELETE → 204/);
});

test("a PUT with no answer may take effect at any time after its call, or never", () => {
  const h = [put("a", "timeout", 0), get(undefined, 1, 2), get("a", 3, 4)];
  assert.ok(passes(h));
  assert.ok(passes([put("a", "lost", 0), get(undefined, 1, 2)]));
  assert.not.ok(passes([...h, get(undefined, 5, 6)]), "it took effect once: the value cannot vanish without a DELETE");
  // It cannot take effect before its call.
  assert.not.ok(passes([get("a", 0, 1), put("a", "lost", 2)]));
  // A connection refused never sent it.
  assert.not.ok(passes([put("a", "refused", 0, 1), get("a", 2, 3)]));
});

/** What the server answered before issue 24's fixes: a 409 that meant "busy", a DELETE that claimed another's interrupted delete. */
const BEFORE_ISSUE_24: Semantics = { ...SPEC, conflictMayBeBusy: true, deleteMayClaimInterrupted: true };

test("a PUT answered 5xx stored nothing (README: '5xx: nothing was stored'), and the checker holds the server to it", () => {
  assert.not.ok(passes([put("a", 503, 0, 1), get("a", 2, 3)], BEFORE_ISSUE_24));
  assert.ok(passes([put("a", 503, 0, 1), get("a", 2, 3)], { ...SPEC, putFailureStoresNothing: false }));
});

test("issue 24's anomalies: they pass under the server's old semantics and fail under SPEC.md's", () => {
  // A DELETE interrupted (master killed), GETs miss the key, a later DELETE answers 204.
  const claimed = [put("a", 201, 0, 1), del("lost", 2), get(undefined, 3, 4), del(204, 5, 6)];
  assert.ok(passes(claimed, BEFORE_ISSUE_24));
  assert.not.ok(passes(claimed, SPEC));
  // A PUT refused with 409 while the key was absent: a DELETE of the absent key held its lock.
  const locked = [del(404, 0, 10), put("a", 409, 1, 2), get(undefined, 11, 12)];
  assert.ok(passes(locked, BEFORE_ISSUE_24));
  assert.not.ok(passes(locked, SPEC));
  // SPEC: a DELETE never answers 409; reported on its own, and the search looks past it.
  const refused = check([put("a", 201, 0, 1), del(409, 2, 3), del(409, 4, 5), get("a", 6, 7)], SPEC);
  assert.is(refused.anomalies, 2);
  assert.equal(refused.keys[0].verdict, "ok");
  assert.match(describeChecked(refused), /UNEXPECTED ANSWER DELETE → 409, 2 times/);
  assert.ok(passes([put("a", 201, 0, 1), del(409, 2, 3), get("a", 6, 7)], BEFORE_ISSUE_24));
});

/** A deterministic PRNG (mulberry32), so a failure here can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A history that is linearizable by construction: each client's operations one after
 * the other, each taking effect at a random point inside its interval on a real register
 * per key; some writes lose their answer (their effect kept or not, at random).
 */
function generated(seed: number, clients: number, perClient: number, keys: number, s3 = false): Recorded[] {
  const rand = prng(seed);
  const planned: { r: Recorded; at: number; applies: boolean }[] = [];
  for (let c = 0; c < clients; c++) {
    let t = rand() * 5;
    for (let i = 0; i < perClient; i++) {
      const call = t + rand() * 3;
      const at = call + rand() * 4;
      const ret = at + rand() * 4;
      const x = rand();
      const f = x < 0.4 ? "put" : x < 0.8 ? "get" : "delete";
      const r: Recorded = { id: 0, client: c, key: `/k${Math.floor(rand() * keys)}`, via: `m${c % 2}`, f, call, ret, status: 0, value: f === "put" ? `c${c}-${i}` : undefined };
      const lost = f !== "get" && rand() < 0.05;
      planned.push({ r, at, applies: !lost || rand() < 0.5 });
      if (lost) {
        r.status = "timeout";
        r.ret = undefined;
      }
      t = ret;
    }
  }
  const held = new Map<string, string>();
  for (const { r, applies } of planned.sort((a, b) => a.at - b.at)) {
    const now = held.get(r.key);
    if (s3) {
      // S3: a PUT always stores (200), a DELETE always leaves the key absent (204).
      if (r.f === "get") [r.status, r.value] = now === undefined ? [404, undefined] : [200, now];
      else if (applies) r.f === "put" ? held.set(r.key, r.value!) : held.delete(r.key);
      if (r.f !== "get" && r.status !== "timeout") r.status = r.f === "put" ? 200 : 204;
      continue;
    }
    if (r.f === "get") [r.status, r.value] = now === undefined ? [404, undefined] : [302, now];
    else if (r.f === "put" && now === undefined) {
      if (applies) held.set(r.key, r.value!);
      if (r.status !== "timeout") r.status = 201;
    } else if (r.f === "put") r.status = r.status === "timeout" ? r.status : 409;
    else if (now !== undefined) {
      if (applies) held.delete(r.key);
      if (r.status !== "timeout") r.status = 204;
    } else if (r.status !== "timeout") r.status = 404;
  }
  return planned.map((p, i) => ((p.r.id = i + 1), p.r));
}

test("generated linearizable histories pass; each corrupted on purpose fails, the corrupted read in the window printed", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const h = generated(seed, 8, 250, 3);
    const t0 = Date.now();
    const c = check(h);
    assert.is(c.anomalies, 0, `seed ${seed}:\n${describeChecked(c)}`);
    assert.ok(Date.now() - t0 < 10_000, `seed ${seed}: ${h.length} operations checked in ${Date.now() - t0} ms`);

    // A read from the future: a GET answers with the value of a PUT (201) called after the GET returned.
    const read = h.find((r) => r.f === "get" && h.some((p) => p.f === "put" && p.status === 201 && p.key === r.key && p.call > r.ret!))!;
    const future = h.find((p) => p.f === "put" && p.status === 201 && p.key === read.key && p.call > read.ret!)!;
    const corrupted = h.map((r) => (r === read ? { ...r, status: 302, value: future.value } : r));
    const bad = check(corrupted);
    assert.is(bad.anomalies, 1, `seed ${seed}`);
    const failed = bad.keys.find((k) => k.verdict === "fail")!;
    assert.is(failed.key, read.key);
    assert.ok(failed.window!.ops.some((o) => o.from.id === read.id), `seed ${seed}: the window holds the corrupted read:\n${describeChecked(bad)}`);
    assert.ok(failed.window!.ops.length < 20, `seed ${seed}: a small window (${failed.window!.ops.length} operations)`);
  }
});

test("list-after-write: a key acknowledged before a list began is in it, unless a DELETE may have come between", () => {
  const list = (call: number, ret: number, keys: string[]): Listed => ({ id: ++ids, client: 0, via: "m1", prefix: "/", call, ret, keys });
  const acked = [op("put", 201, 0, 1, "a", "/a")];
  assert.is(check(acked, SPEC, [list(2, 3, ["/a"])]).anomalies, 0);
  assert.is(check(acked, SPEC, [list(0.5, 3, [])]).anomalies, 0, "a list begun before the 201 may miss it");
  const missed = check(acked, SPEC, [list(2, 3, [])]);
  assert.is(missed.lists.length, 1);
  assert.match(describeChecked(missed), /\/a: LIST-AFTER-WRITE/);
  assert.is(check([...acked, op("delete", "timeout", 1.5, undefined, undefined, "/a")], SPEC, [list(2, 3, [])]).lists.length, 0);
  const missedAgain = check([...acked, op("delete", 404, 1.5, 2.5, undefined, "/a")], SPEC, [list(2, 3, [])]);
  assert.is(missedAgain.lists.length, 1, "a 404 removed nothing");
  // The finding says what the list had and what else the key did meanwhile.
  assert.match(describeChecked(missedAgain), /→ 0 keys \[\]\n.*other operations.*\n.*DELETE → 404/);
});

// S3's objects: a plain register (history.ts S3_OBJECTS).
const put3 = (value: string, status: Status, call: number, ret?: number) => op("put", status, call, ret, value);
const get3 = (value: string | undefined, call: number, ret: number) => op("get", value === undefined ? 404 : 200, call, ret, value);
const passesS3 = (history: Recorded[]) => passes(history, S3_OBJECTS);

test("S3: a PUT overwrites, a DELETE leaves the key absent whatever it held; a stale read fails", () => {
  const h = [put3("a", 200, 0, 1), get3("a", 2, 3), put3("b", 200, 4, 5), get3("b", 6, 7), del(204, 8, 9), get3(undefined, 10, 11), del(204, 12, 13), get3(undefined, 14, 15)];
  assert.ok(passesS3(h));
  assert.not.ok(passes(h), "the curl API's model: a 200 PUT and a 204 DELETE of an absent key are no answers of it");
  assert.not.ok(passesS3([...h.slice(0, 4), get3("a", 6.5, 7.5)]), "the old value after the overwrite was read");
  assert.not.ok(passesS3([put3("a", 200, 0, 1), del(204, 2, 3), get3("a", 4, 5)]));
  // A 409 (another write won) changed nothing.
  assert.ok(passesS3([put3("a", 200, 0, 1), put3("b", 409, 2, 3), get3("a", 4, 5)]));
  assert.not.ok(passesS3([put3("a", 200, 0, 1), put3("b", 409, 2, 3), get3("b", 4, 5)]));
});

test("S3: concurrent overwrites, last writer wins: every read after both names one of them, and never goes back", () => {
  const h = [put3("a", 200, 0, 10), put3("b", 200, 1, 9)];
  assert.ok(passesS3([...h, get3("a", 11, 12), get3("a", 13, 14)]));
  assert.ok(passesS3([...h, get3("b", 11, 12)]));
  assert.not.ok(passesS3([...h, get3("b", 11, 12), get3("a", 13, 14)]), "once b was read after both ended, a cannot come back");
  // During both, a read may see absent, then a, then b.
  assert.ok(passesS3([...h, get3(undefined, 2, 3), get3("a", 4, 5), get3("b", 6, 7)]));
});

test("S3: a PUT with no answer or a 5xx may take effect at any time after its call, or never", () => {
  assert.ok(passesS3([put3("a", 200, 0, 1), put3("b", "timeout", 2), get3("a", 3, 4), get3("b", 5, 6)]));
  assert.ok(passesS3([put3("a", 200, 0, 1), put3("b", 503, 2, 3), get3("b", 4, 5)]), "S3 promises nothing of a 5xx");
  assert.ok(passesS3([put3("a", 200, 0, 1), put3("b", 503, 2, 3), get3("a", 4, 5)]));
  assert.not.ok(passesS3([put3("a", 200, 0, 1), put3("b", "lost", 2), get3("b", 3, 4), get3("a", 5, 6)]), "it took effect once, after a: a cannot come back");
  assert.not.ok(passesS3([get3("b", 0, 1), put3("b", "lost", 2)]), "not before its call");
});

test("S3: a mixed or partial value (one no write wrote) fails, the read in the window; a 404 to a PUT or DELETE is unexpected", () => {
  const mixed = "(no value written has md5 0123: 48000 bytes, starting \"/k client 1 write 2;\", ending \"client 3 write 4;\")";
  const c = check([put3("a", 200, 0, 10), put3("b", 200, 1, 9), get3(mixed, 11, 12)], S3_OBJECTS);
  assert.is(c.anomalies, 1);
  assert.ok(c.keys[0].window!.ops.some((o) => o.from.value === mixed), "the read of the mix is in the window");
  assert.match(describeChecked(c), /NOT LINEARIZABLE/);
  const odd = check([put3("a", 404, 0, 1), del(404, 2, 3)], S3_OBJECTS);
  assert.is(odd.unexpected.length, 2);
});

test("S3: generated linearizable histories pass; each corrupted on purpose (a read from the future) fails, the read in the window", () => {
  for (const seed of [11, 12, 13]) {
    const h = generated(seed, 8, 200, 3, true);
    const c = check(h, S3_OBJECTS);
    assert.is(c.anomalies, 0, `seed ${seed}:\n${describeChecked(c)}`);
    const read = h.find((r) => r.f === "get" && h.some((p) => p.f === "put" && p.status === 200 && p.key === r.key && p.call > r.ret!))!;
    const future = h.find((p) => p.f === "put" && p.status === 200 && p.key === read.key && p.call > read.ret!)!;
    const bad = check(h.map((r) => (r === read ? { ...r, status: 200, value: future.value } : r)), S3_OBJECTS);
    assert.is(bad.anomalies, 1, `seed ${seed}`);
    const failed = bad.keys.find((k) => k.verdict === "fail")!;
    assert.ok(failed.window!.ops.some((o) => o.from.id === read.id), `seed ${seed}: the corrupted read is in the window:\n${describeChecked(bad)}`);
  }
});

test("S3: acknowledged writes lost: a 200 whose value the key no longer holds, unless a later PUT or DELETE may have replaced it", () => {
  const a = put3("a", 200, 0, 1);
  const finals = (v: string | undefined) => new Map([["/k", v]]);
  assert.equal(lostWrites([a], finals("a"), S3_OBJECTS), []);
  assert.equal(lostWrites([a], finals(undefined), S3_OBJECTS), [a]);
  assert.equal(lostWrites([a, put3("b", 200, 2, 3)], finals("b"), S3_OBJECTS), []);
  assert.equal(lostWrites([a, put3("b", "timeout", 2)], finals("b"), S3_OBJECTS), []);
  assert.equal(lostWrites([a, put3("b", 409, 2, 3)], finals("b"), S3_OBJECTS), [a], "a 409 replaced nothing");
  assert.equal(lostWrites([a, del(204, 2, 3)], finals(undefined), S3_OBJECTS), []);
  assert.equal(lostWrites([a], finals("a"), SPEC), [], "the curl API acknowledges with 201");
});

test.run();
