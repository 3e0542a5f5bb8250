/** `kvdb server` under Bun (`bun mod.ts`), over real HTTP. */
import { runtimeSmoke } from "./runtime-smoke.ts";

runtimeSmoke("bun");
