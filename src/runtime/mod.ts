/**
 * The runtime adapter for wherever kvdb finds itself. Bun is checked first, then
 * Deno (both also look like Node), then Node.
 */
import { bun } from "./bun.ts";
import { deno } from "./deno.ts";
import { node } from "./node.ts";
import type { Runtime } from "./types.ts";

export type { Listener, Runtime } from "./types.ts";

export const runtime: Runtime =
  "Bun" in globalThis ? bun : "Deno" in globalThis ? deno : node;
