/** TLS from the standalone Bun binary (dist/kvdb, built when stale): tls-smoke.ts's checks. */
import { test } from "uvu";
import { ensureBinary } from "../harness/binary.ts";
import { tlsSmoke } from "./tls-smoke.ts";

tlsSmoke("binary", () => ensureBinary((line) => console.log(`    ${line}`)));
test.run();
