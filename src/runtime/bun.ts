/**
 * Bun: its node:http server, as on Node (node.ts), and its fetch for calls.
 *
 * Not Bun.serve, though it answers small requests faster: it resolves `.`/`..`
 * segments (and their %2e spellings) in the request URL before any handler sees it,
 * so `PUT /a/../../tmp` would store the key /tmp where Node and Deno answer 400.
 * Bun's node:http server hands over the request target as sent (tests/raw-keys.test.ts
 * checks every runtime). Measured on a shared, loaded 2-core machine with `kvdb bench`
 * against `bun mod.ts server`: 404s/s and 302s/s fell to a third to a half of
 * Bun.serve's, thrash cycles by a quarter; 256 MiB reads were as fast.
 */
import { node } from "./node.ts";
import { fetchCall } from "./fetch-client.ts";
import type { Runtime } from "./types.ts";

export const bun: Runtime = { ...node, name: "bun", call: fetchCall };
