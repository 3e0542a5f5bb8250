/**
 * Work that outlives its caller must never fail unobserved: an unhandled rejection ends
 * a Node process (a master, or the test process its in-process masters run in).
 * Refreshed (src/master/index/refreshed.ts) refreshes a figure nobody waits for;
 * keptAlive (src/http/kept-alive.ts) finishes work after its client may have gone.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keptAlive } from "../src/http/kept-alive.ts";
import { Refreshed } from "../src/master/index/refreshed.ts";

const unhandled: unknown[] = [];
const note = (e: unknown) => unhandled.push(e);
/** Lets a rejection nobody handled be reported (after the microtasks of this turn). */
const settle = () => new Promise((r) => setTimeout(r, 0));
/** The error `p` rejects with. */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

test.before.each(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", note);
});
test.after.each(() => {
  process.off("unhandledRejection", note);
});

test("Refreshed: a background refresh that fails serves the last figure, is tried again later, and rejects nothing unobserved", async () => {
  let calls = 0;
  const figure = new Refreshed(async () => {
    calls++;
    if (calls === 2) throw new Error("the database went away");
    return calls;
  });
  assert.is(await figure.get(), 1); // the first call waits
  const realNow = Date.now;
  try {
    Date.now = () => realNow() + 60_000; // the figure is old: the next call refreshes in the background
    assert.is(await figure.get(), 1);
    await settle();
    assert.is(calls, 2);
    assert.equal(unhandled, []);
    Date.now = () => realNow() + 120_000;
    assert.is(await figure.get(), 1); // served at once; this refresh succeeds
    await settle();
    assert.is(await figure.get(), 3);
  } finally {
    Date.now = realNow;
  }
});

test("Refreshed: the first call, which waits, gets the failure", async () => {
  const figure = new Refreshed<number>(async () => {
    throw new Error("no database");
  });
  assert.match((await failure(figure.get())).message, /no database/);
  await settle();
  assert.equal(unhandled, []);
});

test("keptAlive: the client gone before the work ends — the work's result or failure goes nowhere, silently", async () => {
  for (const outcome of ["resolves", "rejects"]) {
    let finish!: (v: string) => void;
    let fail!: (e: Error) => void;
    const work = new Promise<string>((res, rej) => ((finish = res), (fail = rej)));
    const body = keptAlive("<first/>", work, 10);
    const reader = body.getReader();
    assert.is(new TextDecoder().decode((await reader.read()).value), "<first/>");
    await reader.cancel();
    if (outcome === "resolves") finish("<last/>");
    else fail(new Error("assembly failed"));
    await settle();
    assert.equal(unhandled, [], outcome);
  }
});

test("keptAlive: the work's failure errors the body; its result ends it", async () => {
  const failing = keptAlive("", Promise.reject(new Error("assembly failed")), 10);
  assert.match((await failure(new Response(failing).text())).message, /assembly failed/);
  assert.is(await new Response(keptAlive("<a>", Promise.resolve("</a>"), 10)).text(), "<a></a>");
  await settle();
  assert.equal(unhandled, []);
});

test.run();
