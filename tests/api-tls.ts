/**
 * The whole API test (api.test.ts) once more with TLS on (issue 26's target: the checks
 * run green with TLS on, under every runtime): every master and volume a `kvdb` process
 * under `runtime` serving a certificate openssl made (tls-certs.ts). The API test runs in
 * a Node process of its own that trusts the CA through NODE_EXTRA_CA_CERTS, which Node
 * reads only when it starts. api-tls.test.ts (Node), api-tls-deno and api-tls-bun run it.
 */
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runChild } from "../harness/children.ts";
import { tempDir } from "../harness/paths.ts";
import { issue, makeCa } from "./tls-certs.ts";

export function apiOverTls(runtime: "node" | "deno" | "bun"): void {
  test(`api.test.ts passes with every server serving TLS under ${runtime} and every request over it`, async () => {
    const dir = tempDir("kvdb-api-tls");
    try {
      const ca = makeCa(dir, "ca");
      const pem = issue(dir, ca, "servers");
      const api = join(dirname(fileURLToPath(import.meta.url)), "api.test.js");
      const env = { NODE_EXTRA_CA_CERTS: ca.cert, KVDB_TEST_TLS: JSON.stringify({ runtime, tls: { ...pem, ca: ca.cert } }), FORCE_COLOR: "0" };
      const r = await runChild([process.execPath, api], { env, timeoutMs: 240_000 });
      assert.is(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Skipped:\s+0/);
      assert.not.match(r.stdout, /FAIL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test.run();
}
