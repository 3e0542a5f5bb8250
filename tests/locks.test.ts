/**
 * Unit tests of the master's per-key locks (src/master/locks.ts): one operation per key
 * at a time, a second hold refused at once (the janitor's), holds that wait (PUT, DELETE, job steps)
 * for a key with a deadline, and a stopping master that waits for every key.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KeyLocks } from "../src/master/locks.ts";

/** A promise the test settles by hand: an operation held open until the test lets it end. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = () => new Promise((r) => setImmediate(r));

test("hold runs the operation holding the key, returns its result and lets the key go", async () => {
  const locks = new KeyLocks();
  const g = gate<string>();
  const held = locks.hold("/a", () => g.promise);
  assert.ok(held, "a free key is held");
  assert.ok(locks.has("/a"));
  assert.not.ok(locks.has("/b"));
  g.open("done");
  assert.is(await held, "done");
  assert.not.ok(locks.has("/a"));
});

test("a second hold of a held key is refused at once, without running; other keys are not affected", async () => {
  const locks = new KeyLocks();
  const g = gate();
  const first = locks.hold("/a", () => g.promise);
  let ran = false;
  const second = locks.hold("/a", async () => {
    ran = true;
  });
  assert.is(second, undefined);
  assert.not.ok(ran);
  const other = locks.hold("/b", async () => "b");
  assert.ok(other, "another key is independent");
  assert.is(await other, "b");
  g.open();
  await first;
  const again = locks.hold("/a", async () => "again");
  assert.ok(again, "free again once the first is done");
  assert.is(await again, "again");
});

test("an operation that fails still lets the key go, and its error reaches the caller", async () => {
  const locks = new KeyLocks();
  const held = locks.hold("/a", async () => {
    throw new Error("volume down");
  });
  assert.ok(held);
  try {
    await held;
    assert.unreachable("the error must reach the caller");
  } catch (e) {
    assert.is((e as Error).message, "volume down");
  }
  assert.not.ok(locks.has("/a"));
});

test("holdWhenFree on a free key runs at once and says true", async () => {
  const locks = new KeyLocks();
  let ran = false;
  assert.is(
    await locks.holdWhenFree("/a", async () => {
      ran = locks.has("/a");
    }),
    true,
  );
  assert.ok(ran, "it ran holding the key");
  assert.not.ok(locks.has("/a"));
});

test("holdWhenFree waits for the release, then runs holding the key", async () => {
  const locks = new KeyLocks();
  const events: string[] = [];
  const g = gate();
  const first = locks.hold("/a", async () => {
    await g.promise;
    events.push("first done");
  });
  const waiter = locks.holdWhenFree("/a", async () => {
    events.push(`waiter runs, key held: ${locks.has("/a")}`);
  }, 5000);
  await tick();
  assert.equal(events, [], "the waiter has not run while the key is held");
  g.open();
  await first;
  assert.is(await waiter, true);
  assert.equal(events, ["first done", "waiter runs, key held: true"]);
  assert.not.ok(locks.has("/a"));
});

test("two waiters on one key run one after the other, never together", async () => {
  const locks = new KeyLocks();
  const events: string[] = [];
  const g = gate();
  void locks.hold("/a", () => g.promise);
  const step = (name: string) => async () => {
    events.push(`${name} starts`);
    await new Promise((r) => setTimeout(r, 20));
    events.push(`${name} ends`);
  };
  const one = locks.holdWhenFree("/a", step("one"), 5000);
  const two = locks.holdWhenFree("/a", step("two"), 5000);
  g.open();
  assert.equal(await Promise.all([one, two]), [true, true]);
  assert.equal(events, ["one starts", "one ends", "two starts", "two ends"]);
});

test("holdWhenFree gives up after waitMs: false, and the operation never runs", async () => {
  const locks = new KeyLocks();
  const g = gate();
  void locks.hold("/a", () => g.promise);
  let ran = false;
  const t0 = Date.now();
  const got = await locks.holdWhenFree("/a", async () => {
    ran = true;
  }, 60);
  const waited = Date.now() - t0;
  assert.is(got, false);
  assert.not.ok(ran);
  assert.ok(waited >= 55 && waited < 1000, `waited ${waited} ms for a 60 ms deadline`);
  assert.ok(locks.has("/a"), "the holder keeps the key");
  g.open();
});

test("holdWhenFree is not fooled by releases of other keys", async () => {
  const locks = new KeyLocks();
  const a = gate();
  void locks.hold("/a", () => a.promise);
  let ran = false;
  const waiter = locks.holdWhenFree("/a", async () => {
    ran = true;
  }, 5000);
  await locks.hold("/b", async () => {}); // a release of /b wakes every waiter
  await tick();
  assert.not.ok(ran, "/a is still held");
  a.open();
  assert.is(await waiter, true);
  assert.ok(ran);
});

test("idle waits until no key is held", async () => {
  const locks = new KeyLocks();
  const a = gate();
  const b = gate();
  void locks.hold("/a", () => a.promise);
  void locks.hold("/b", () => b.promise);
  let idle = false;
  const t0 = Date.now();
  const waiting = locks.idle(5000).then(() => (idle = true));
  a.open();
  await tick();
  assert.not.ok(idle, "/b is still held");
  b.open();
  await waiting;
  assert.ok(Date.now() - t0 < 1000, "woken by the last release, not by its 5 s deadline");
  assert.not.ok(locks.has("/a") || locks.has("/b"));
});

test("idle with nothing held returns at once; with a key held forever, after waitMs", async () => {
  const locks = new KeyLocks();
  let t0 = Date.now();
  await locks.idle(5000);
  assert.ok(Date.now() - t0 < 50, "nothing held: no wait");
  const g = gate();
  void locks.hold("/stuck", () => g.promise);
  t0 = Date.now();
  await locks.idle(60);
  const waited = Date.now() - t0;
  assert.ok(waited >= 55 && waited < 1000, `waited ${waited} ms for a 60 ms deadline`);
  assert.ok(locks.has("/stuck"));
  g.open();
});

test("holdBy waits for the key until its deadline: runs once it is let go, or never if it stays held", async () => {
  const locks = new KeyLocks();
  const g = gate();
  const first = locks.hold("/a", () => g.promise)!;
  let ran = false;
  const gaveUp = await locks.holdBy("/a", Date.now() + 50, async () => {
    ran = true;
  });
  assert.is(gaveUp, undefined);
  assert.not.ok(ran, "past its deadline it did not run");
  const waiting = locks.holdBy("/a", Date.now() + 5000, async () => "second");
  await tick();
  g.open();
  await first;
  assert.equal(await waiting, { value: "second" });
  assert.not.ok(locks.has("/a"));
});

test.run();
