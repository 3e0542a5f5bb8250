/**
 * A short pass of every consistency scenario (harness/jepsen/scenarios.ts): a real
 * cluster, concurrent clients, the scenario's fault, then the checker (harness/check/)
 * on the history: no anomaly under SPEC.md's semantics (harness/check/history.ts SPEC),
 * no acknowledged write lost. Longer runs:
 * npm run jepsen (docs/CONSISTENCY.md). A scenario whose tool is missing (LazyFS,
 * libfaketime) is skipped and says why.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SPEC } from "../harness/check/history.ts";
import { startPostgres, type Postgres } from "../harness/postgres.ts";
import { runScenario } from "../harness/jepsen/run.ts";
import { cannotRun, SCENARIOS } from "../harness/jepsen/scenarios.ts";

/** Seconds of load per scenario: long enough for two or three strikes of its fault. */
const SECONDS = 4;
const workload = { clients: 6, keys: 3, timeoutMs: 5000, thinkMs: 20 };
let pg: Postgres;

test.before(async () => {
  pg = await startPostgres();
});
test.after(async () => {
  await pg?.close();
});

for (const s of SCENARIOS) {
  test(`${s.name}: ${SECONDS} s of concurrent PUT/GET/DELETE/list${s.fault ? ` under ${s.fault}` : ""}: linearizable per key, list-after-write, nothing acknowledged lost`, async () => {
    const why = cannotRun(s);
    if (why) return console.log(`${s.name} skipped: ${why}`);
    const r = await runScenario(s, { seconds: SECONDS, workload, semantics: SPEC, pg });
    if (r.skipped) return console.log(`${s.name} skipped: ${r.skipped}`);
    assert.ok(r.ops >= 10, `${r.ops} operations ran`);
    assert.is(r.anomalies + r.lost + r.undecided, 0, `${r.anomalies} anomalies, ${r.lost} lost, ${r.undecided} undecided:\n${r.findings}`);
    // A volume down costs no write when fewer replicas than there are volumes suffice (issue 24 part 2).
    if (s.minReplicas) assert.is(r.putsFailed, 0, `${r.putsFailed} of ${r.puts} PUTs failed with a volume killed, --min-replicas ${s.minReplicas}`);
  });
}

test.run();
