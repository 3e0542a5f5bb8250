/**
 * What one signed volume URL costs in this process: `signPath` (what the master signs
 * its redirects with), `signUrl` (the general form, parsing the URL), and the way both
 * were made before src/signing/hmac-sha256.ts (the runtime's createHmac on a parsed URL).
 * In-process, µs per URL, three rounds of 200,000 keys; run it under each runtime:
 *
 *   npm run bench:sign-cost                      (Node)
 *   node_modules/.bin/deno run -A bench/sign-cost.ts
 *   node_modules/.bin/bun bench/sign-cost.ts
 */
import { createHmac } from "node:crypto";
import { signPath, signUrl } from "../src/signing/signing.ts";

const SECRET = "a-cluster-secret-of-43-characters-xxxxxxxxx";
const N = 200_000;
const BASE = "http://127.0.0.1:3001";

/** The signature as signing.ts made it before: createHmac on the URL parsed and its params set. */
function before(url: string): string {
  const u = new URL(url);
  u.searchParams.set("expires", String(Math.floor(Date.now() / 1000) + 60));
  const text = `GET\n${decodeURIComponent(u.pathname)}\n${u.searchParams}`;
  u.searchParams.set("signature", createHmac("sha256", SECRET).update(text).digest("base64url"));
  return u.href;
}

function time(fn: (i: number) => string): string {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) sink += fn(i).length;
  if (sink === 0) throw new Error("nothing signed");
  return (((performance.now() - t0) * 1000) / N).toFixed(2);
}

const runtime = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
for (let round = 1; round <= 3; round++) {
  const path = time((i) => signPath(SECRET, "GET", `${BASE}/bench/key-${i}`, `/bench/key-${i}`, undefined, 60));
  const url = time((i) => signUrl(SECRET, "GET", `${BASE}/bench/key-${i}`, 60));
  const old = time((i) => before(`${BASE}/bench/key-${i}`));
  console.log(`${runtime} round ${round}: µs per URL: signPath ${path}, signUrl ${url}, createHmac on a parsed URL (before) ${old}`);
}
