/** `kvdb server` under Deno (`deno run -A mod.ts`), over real HTTP. */
import { runtimeSmoke } from "./runtime-smoke.ts";

runtimeSmoke("deno");
