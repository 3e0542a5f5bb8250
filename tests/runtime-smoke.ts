/**
 * The same HTTP smoke test for each runtime kvdb runs under: `kvdb server` started
 * from the TypeScript source by that runtime (deno.test.ts, bun.test.ts), checked over
 * real loopback HTTP, then stopped with SIGTERM. Proves the runtime adapter (Deno.serve,
 * Bun.serve) carries the whole API, including a streamed 64 MiB value.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { streamGet, streamPut } from "../harness/data.ts";
import { HOST, runKvdb, RUNTIMES, spawnKvdb, type KvdbServer } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { bytes, md5 } from "./http.ts";

const run = promisify(execFile);

const BIG = 64 * 1024 * 1024;
const SMALL = "hello from kvdb, checked byte for byte";

export function runtimeSmoke(runtime: "deno" | "bun"): void {
  const dir = tempDir(`kvdb-${runtime}`);
  let server: KvdbServer;
  const url = (path: string) => `${server.url}${path}`;
  /** A request to the master that does not follow redirects, with a deadline. */
  const req = (path: string, init: RequestInit = {}) =>
    fetch(url(path), { redirect: "manual", signal: AbortSignal.timeout(10_000), ...init });

  // No update checks or telemetry: only loopback traffic in tests.
  const env = { DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" };

  test.before(async () => {
    server = await spawnKvdb(["server", dir, "--port", "0", "--host", HOST], env, 20_000, RUNTIMES[runtime]);
  });

  test.after(async () => {
    await server?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test(`kvdb server runs on ${runtime}`, () => {
    assert.match(server.output(), new RegExp(`^kvdb master url=\\S+ .*runtime=${runtime}$`, "m"));
    assert.is(server.output().match(/^kvdb volume url=/gm)?.length, 3);
  });

  // docs/PERFORMANCE.md, "Page faults": Deno's from deno.json's task, Bun's set by kvdb itself (runtime/bun-memory.ts).
  const allocator = { deno: "GLIBC_TUNABLES=glibc.malloc.top_pad=16777216", bun: "MIMALLOC_PURGE_DELAY=-1" }[runtime];
  test(`the server runs with ${allocator}, in the process that was started`, () => {
    const environ = readFileSync(`/proc/${server.proc.pid}/environ`, "utf8").split("\0");
    assert.ok(environ.includes(allocator), environ.filter((e) => /GLIBC|MIMALLOC/.test(e)).join());
  });

  test("PUT is 201, a second PUT of the key 409", async () => {
    assert.is((await req("/smoke/small", { method: "PUT", body: SMALL })).status, 201);
    assert.is((await req("/smoke/small", { method: "PUT", body: "other" })).status, 409);
  });

  let location = "";
  test("GET is a 302 with Content-Md5 and Location; the redirect gives the exact bytes", async () => {
    const res = await req("/smoke/small");
    assert.is(res.status, 302);
    assert.is(res.headers.get("content-md5"), md5(SMALL));
    location = res.headers.get("location") ?? "";
    assert.ok(location.startsWith(`http://${HOST}:`), `Location ${location}`);
    const body = await fetch(location, { signal: AbortSignal.timeout(10_000) });
    assert.is(body.status, 200);
    assert.is(await body.text(), SMALL);
  });

  test("a Range request on the volume URL is a 206 with that slice", async () => {
    const res = await fetch(location, { headers: { Range: "bytes=6-9" }, signal: AbortSignal.timeout(10_000) });
    assert.is(res.status, 206);
    assert.is(res.headers.get("content-range"), `bytes 6-9/${SMALL.length}`);
    assert.is(await res.text(), SMALL.slice(6, 10));
  });

  test("curl -sS -L -T a 3 MiB file: a direct write (307 to a volume, 201 from it, one hash), read back exact", async () => {
    const value = bytes(3 * 1024 * 1024 + 7, 31);
    const file = join(dir, "direct.bin");
    writeFileSync(file, value);
    const { stdout } = await run("curl", ["-sS", "-D", "-", "-L", "-T", file, url("/direct-smoke/value")]);
    assert.equal([...stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1])).filter((s) => s !== 100), [307, 201], stdout);
    const res = await req("/direct-smoke/value");
    assert.is(res.status, 302);
    const got = await streamGet(res.headers.get("location")!);
    assert.equal([got.status, got.size, got.md5], [200, value.length, md5(value)]);
  });

  test("a streamed 64 MiB value round-trips with the same md5", async () => {
    const put = await streamPut(url("/smoke/big"), BIG, { seed: `${runtime} smoke`, timeoutMs: 60_000 });
    assert.is(put.status, 201, `PUT answered ${put.status} ${put.body} ${put.error?.message ?? ""}`);
    const res = await req("/smoke/big");
    assert.is(res.status, 302);
    assert.is(res.headers.get("content-md5"), put.md5);
    const got = await streamGet(res.headers.get("location")!);
    assert.equal([got.status, got.size, got.md5], [200, BIG, put.md5]);
  });

  test("a file value's ranges: inside it, and to its last byte; a download cut short leaves no file open", async () => {
    const value = Buffer.alloc(100_000); // past the inline threshold: a file on each volume
    for (let i = 0; i < value.length; i++) value[i] = (i * 31 + (i >> 8)) & 0xff;
    assert.is((await req("/ranges/value", { method: "PUT", body: value })).status, 201);
    const at = (await req("/ranges/value")).headers.get("location")!;
    const cases: [string, number, number][] = [
      ["bytes=1000-1999", 1000, 1999],
      ["bytes=-500", 99_500, 99_999],
      ["bytes=50000-", 50_000, 99_999],
      ["bytes=0-99999", 0, 99_999],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(at, { headers: { Range: range }, signal: AbortSignal.timeout(10_000) });
      assert.is(res.status, 206, range);
      assert.is(res.headers.get("content-range"), `bytes ${start}-${end}/${value.length}`, range);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(value.subarray(start, end + 1)), range);
    }
    const whole = await fetch(at, { signal: AbortSignal.timeout(10_000) });
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(value));

    // Clients that leave after the first bytes of the 64 MiB value: its file is closed each time.
    const big = (await req("/smoke/big")).headers.get("location")!;
    const fds = () => readdirSync(`/proc/${server.proc.pid}/fd`).length;
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(big, { signal: AbortSignal.timeout(10_000) });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
    }
    for (let i = 0; i < 100 && fds() > before + 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fds() <= before + 3, `open files: ${before} before, ${fds()} after 20 cut downloads`);
  });

  test("?list gives the live keys as JSON", async () => {
    const res = await req("/smoke/?list");
    assert.is(res.status, 200);
    assert.equal(((await res.json()) as { keys: string[] }).keys, ["/smoke/big", "/smoke/small"]);
  });

  test("UNLINK is 204, then GET 404 and the key leaves the list; DELETE is 204", async () => {
    assert.is((await req("/smoke/small", { method: "UNLINK" })).status, 204);
    assert.is((await req("/smoke/small")).status, 404);
    assert.equal(((await (await req("/smoke/?list")).json()) as { keys: string[] }).keys, ["/smoke/big"]);
    assert.is((await req("/smoke/small", { method: "DELETE" })).status, 204);
    assert.is((await req("/smoke/big", { method: "DELETE" })).status, 204);
    assert.is((await req("/smoke/big")).status, 404);
  });

  test(`metrics and status on ${runtime}: the exposition names the runtime and counts each redirect and miss; status.json says OK`, async () => {
    const metrics = await req("/_kvdb/metrics");
    assert.is(metrics.status, 200);
    assert.match(await metrics.text(), new RegExp(`^kvdb_build_info\\{version="0\\.1\\.0",runtime="${runtime}"\\} 1$`, "m"));
    // Answered before the app (master/read.ts, readDirect), and counted all the same.
    const gets = async () => {
      const text = await (await req("/_kvdb/metrics")).text();
      const sample = (cls: string) => Number(text.match(new RegExp(`^kvdb_http_requests_total\\{role="master",method="GET",status_class="${cls}"\\} (\\d+)$`, "m"))?.[1] ?? 0);
      return [sample("3xx"), sample("4xx")];
    };
    assert.is((await req("/smoke/counted", { method: "PUT", body: SMALL })).status, 201);
    const before = await gets();
    assert.is((await req("/smoke/counted")).status, 302);
    assert.is((await req("/smoke/never-stored")).status, 404);
    const after = await gets();
    assert.equal([after[0] - before[0], after[1] - before[1]], [1, 1], "one 302 and one 404 more");
    const status = (await (await req("/_kvdb/status.json")).json()) as { health: { state: string }; volumes: { runtime: string }[] };
    assert.is(status.health.state, "ok");
    assert.equal(status.volumes.map((v) => v.runtime), [runtime, runtime, runtime]);
  });

  test("a port already taken: one line naming EADDRINUSE on stderr, exit 1", async () => {
    const taken = new URL(server.url).port;
    const r = await runKvdb(["volume", join(dir, "second"), "--port", taken, "--host", HOST], env, 20_000, RUNTIMES[runtime]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /^kvdb: cannot listen: .*EADDRINUSE.*\n$/);
  });

  test("SIGTERM stops it cleanly (exit code 0)", async () => {
    assert.is(await server.stop("SIGTERM"), 0, server.output());
  });

  test.run();
}
