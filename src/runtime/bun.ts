/**
 * Bun: its node:http server, as on Node (node.ts), and its fetch for calls.
 *
 * Not Bun.serve, though it answers small requests faster: it resolves `.`/`..`
 * segments (and their %2e spellings) in the request URL before any handler sees it,
 * so `PUT /a/../../tmp` would store the key /tmp where Node and Deno answer 400.
 * Bun.serve has no option keeping the target as sent and its Request no property
 * holding it, and a normalised URL looks like one sent that way, so not even hot
 * routes can go through it; the raw target reaches JavaScript only through the internal
 * hook under Bun's node:http. Bun's node:http hands over the target as sent
 * (tests/commands.test.ts checks every runtime). What it costs, measured by A/B runs
 * taking turns: docs/RUNTIMES.md, "Serving requests on Bun".
 */
import { node } from "./node.ts";
import { fetchCall } from "./fetch-client.ts";
import { trustedRoots } from "./tls.ts";
import type { Runtime } from "./types.ts";

/** Bun's fetch takes the CAs to trust as `tls.ca`. */
const trust = () => {
  const ca = trustedRoots();
  return ca && { tls: { ca } };
};

export const bun: Runtime = { ...node, name: "bun", call: fetchCall(trust) };
