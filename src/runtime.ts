/**
 * The runtime adapter for wherever kvdb finds itself. Bun is checked first, then
 * Deno (both also look like Node), then Node.
 */
import { bun } from "./runtime/bun.ts";
import { deno } from "./runtime/deno.ts";
import { node } from "./runtime/node.ts";
import type { Runtime } from "./runtime/types.ts";

export type { Listener, Runtime } from "./runtime/types.ts";

export const runtime: Runtime =
  "Bun" in globalThis ? bun : "Deno" in globalThis ? deno : node;
