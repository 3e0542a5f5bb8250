/** TLS under Deno and Bun, from the TypeScript source: tls-smoke.ts's checks for each. */
import { test } from "uvu";
import { tlsSmoke } from "./tls-smoke.ts";

tlsSmoke("deno");
tlsSmoke("bun");
test.run();
