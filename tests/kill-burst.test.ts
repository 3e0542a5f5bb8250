/**
 * kill -9 in the middle of a burst: a master and 3 volumes as processes, 300 concurrent
 * small PUTs and 12 direct writes (over --direct-threshold, sent with Expect:
 * 100-continue: a 307 to their first volume, which fans the body out to the others and
 * asks the master to commit), and one volume then the master killed with SIGKILL while
 * they run. Both restarted on the same ports and data: every PUT that got 201 reads
 * back exact from every replica, every other key is absent or exact, and verify
 * --repair then verify end clean. A kill -9 leaves the page cache to the kernel, so
 * this test cannot see a missing fsync (tests/power-loss.test.ts does); it sees a 201
 * given before every replica stored the value and the master committed it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync } from "node:fs";
import { assertSurvived } from "./after-crash.ts";
import { burst, type Planned } from "./burst.ts";
import { watchdog } from "./watchdog.ts";
import { startCluster } from "../harness/cluster.ts";

const PUTS = 300;
const DIRECT = 12;
const MiB = 1 << 20;
/** A hard bound for the test, cleanup included: typically 15-40 s on 2 busy cores. */
const DEADLINE_MS = 110_000;
/** 1 byte to 2 KiB; every 50th PUT is held after half its body until the kill. */
const small: Planned[] = Array.from({ length: PUTS }, (_, i) => {
  const size = 2 + ((i * 37) % 2047);
  return { key: `/kill-burst/k${String(i).padStart(4, "0")}`, size, holdAt: i % 50 === 0 ? size >> 1 : undefined };
});
/** 1 MiB and a bit: over the default --direct-threshold (master/direct-terms.ts); every 4th held at the volume after half its body. */
const direct: Planned[] = Array.from({ length: DIRECT }, (_, i) => {
  const size = MiB + 1 + i * 4096;
  return { key: `/kill-burst/direct${String(i).padStart(2, "0")}`, size, direct: true, holdAt: i % 4 === 0 ? size >> 1 : undefined };
});
const plan = [...small, ...direct];

test(`${PUTS} concurrent small PUTs and ${DIRECT} direct writes, a volume and the master killed -9 mid-burst: what got 201 survives, verify --repair then verify clean`, async () => {
  const c = await startCluster({ runtime: "node", volumes: 3, replicas: 3 });
  const deadline = watchdog(DEADLINE_MS, () => {
    for (const p of [c.master, ...c.volumes]) p.child.proc.kill("SIGKILL");
    rmSync(c.dir, { recursive: true, force: true });
  });
  try {
    deadline.step("the burst and the kill");
    const [victim] = c.volumes;
    const ledger = await burst(c.master.url, plan, {
      prelude: [],
      tail: [],
      // Once some direct writes were acknowledged too (the others still running, or held).
      crashWhen: (l) => l.created.size >= PUTS * 0.4 && [...l.created].filter((k) => l.direct.has(k)).length >= DIRECT / 4,
      async crash() {
        await victim.child.stop("SIGKILL");
        await c.master.child.stop("SIGKILL");
      },
      timeoutMs: 30_000,
    });
    assert.ok(ledger.inFlightAtCrash > 0, "the kill came while PUTs were in flight");
    assert.is(ledger.direct.size, DIRECT, "every value over the threshold went direct");

    deadline.step("restarting the volume and the master");
    await victim.restart();
    await c.master.restart();
    await assertSurvived("kill -9 of a volume and the master", c.master.url, ledger, deadline.step);
  } finally {
    deadline.stop();
    await c.close();
  }
});

test.run();
