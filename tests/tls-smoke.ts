/**
 * The same TLS checks for each runtime kvdb runs under (tls.test.ts: Node;
 * tls-runtimes.test.ts: Deno and Bun; tls-binary.test.ts: the Bun binary): `kvdb server`
 * with --tls-cert/--tls-key (its volumes and S3 too) and certificates openssl made,
 * reached with curl --cacert, its own `kvdb status`, a wrong CA, and a SIGHUP that swaps
 * the certificate while a download is under way.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { get } from "node:https";
import { connect } from "node:tls";
import { join } from "node:path";
import { promisify } from "node:util";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HOST, runKvdb, RUNTIMES, spawnKvdb, type KvdbServer } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { bytes, md5 } from "./http.ts";
import { issue, makeCa, replace, type Pem } from "./tls-certs.ts";

const run = promisify(execFile);

/** The common name of the certificate `url`'s server presents to a new connection, trusting `ca`. */
export function servedName(url: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: readFileSync(ca), servername: "localhost" }, () => {
      const name = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(String(name));
    });
    socket.once("error", reject);
  });
}

/** Waits (a readiness check, not a sleep) until `server` printed `line` `times` times in all. */
export async function printed(server: KvdbServer, line: RegExp, times: number, timeoutMs = 10_000): Promise<void> {
  const count = () => server.output().split("\n").filter((l) => line.test(l)).length;
  for (const end = Date.now() + timeoutMs; count() < times; ) {
    if (Date.now() > end) throw new Error(`no ${line} (${times}) in:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TlsCluster {
  server: KvdbServer;
  dir: string;
  ca: Pem;
  /** The files the server was started with: replace() them, then SIGHUP. */
  served: Pem;
  /** Another certificate of the same CA, named "renewed". */
  renewed: Pem;
  /** A CA that issued none of them. */
  otherCa: Pem;
}

/** `kvdb server` under `runtime`, serving TLS with a certificate named "first", and the files to play with. */
export async function tlsServer(runtime: keyof typeof RUNTIMES, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<TlsCluster> {
  const dir = tempDir(`kvdb-tls-${runtime}`);
  const ca = makeCa(dir, "test-ca");
  const otherCa = makeCa(dir, "other-ca");
  const first = issue(dir, ca, "first");
  const renewed = issue(dir, ca, "renewed");
  const served = { cert: join(dir, "served.pem"), key: join(dir, "served.key") };
  replace(served, first);
  const args = ["server", join(dir, "data"), "--port", "0", "--host", HOST, "--tls-cert", served.cert, "--tls-key", served.key, "--tls-ca", ca.cert, ...extraArgs];
  const noise = { DENO_NO_UPDATE_CHECK: "1", DO_NOT_TRACK: "1", NO_COLOR: "1" };
  const server = await spawnKvdb(args, { ...noise, ...env }, 30_000, RUNTIMES[runtime]);
  return { server, dir, ca, served, renewed, otherCa };
}

/** Adds the checks to uvu's suite (the caller may add more, then test.run()). */
export function tlsSmoke(runtime: keyof typeof RUNTIMES, before: () => Promise<void> = async () => {}): void {
  let c: TlsCluster;
  const url = (path: string) => `${c.server.url}${path}`;
  // Deno.serve offers HTTP/2 over TLS too and curl takes it: the direct write needs
  // HTTP/1.1's Expect: 100-continue (docs/SECURITY.md, "TLS").
  const curl = (...args: string[]) => run("curl", ["-sS", "--cacert", c.ca.cert, ...(runtime === "deno" ? ["--http1.1"] : []), ...args]);

  test.before(async () => {
    await before();
    c = await tlsServer(runtime);
  });

  test.after(async () => {
    await c?.server.stop("SIGKILL");
    if (c) rmSync(c.dir, { recursive: true, force: true });
  });

  test(`${runtime}: every start line says https://`, () => {
    const out = c.server.output();
    assert.is(out.match(/^kvdb volume url=https:\/\//gm)?.length, 3, out);
    assert.match(out, /^kvdb master url=https:\/\/\S+ .*volumes=https:\/\/[^,]+,https:\/\/[^,]+,https:\/\/\S+ .*s3=https:\/\//m);
  });

  test(`${runtime}: curl --cacert -L -T a 3 MiB file is a direct write (307 to an https volume, 201), GET -L gives it back, DELETE 204`, async () => {
    const value = bytes(3 * 1024 * 1024 + 5, 7);
    const file = join(c.dir, "direct.bin");
    writeFileSync(file, value);
    const put = await curl("-D", "-", "-o", "/dev/null", "-L", "-T", file, url("/tls/direct"));
    assert.equal([...put.stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1])).filter((s) => s !== 100), [307, 201], put.stdout);
    assert.match(put.stdout, /^location: https:\/\/127\.0\.0\.1:\d+\/_kvdb\/write\//im);
    const got = await run("curl", ["-sS", "--cacert", c.ca.cert, "-L", url("/tls/direct")], { encoding: "buffer", maxBuffer: 1 << 24 });
    assert.is(md5(got.stdout), md5(value));
    const redirect = await curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", url("/tls/direct"));
    assert.match(redirect.stdout, /^302 https:\/\/127\.0\.0\.1:\d+\//);
    assert.is((await curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", url("/tls/direct"))).stdout, "204");
    assert.is((await curl("-o", "/dev/null", "-w", "%{http_code}", url("/tls/direct"))).stdout, "404");
  });

  test(`${runtime}: a client trusting another CA is refused; kvdb status needs --tls-ca and says why`, async () => {
    const wrong = await run("curl", ["-sS", "--cacert", c.otherCa.cert, url("/tls/none")]).catch((e: { code: number; stderr: string }) => e);
    assert.is((wrong as { code: number }).code, 60, "curl's 'peer certificate cannot be authenticated'");
    const command = RUNTIMES[runtime];
    const untrusted = await runKvdb(["status", "--master", c.server.url], {}, 30_000, command);
    assert.is(untrusted.code, 1, untrusted.stderr + untrusted.stdout);
    assert.match(untrusted.stderr, /cannot reach the master at https:\/\/\S+: .*(certificate|issuer)/i);
    const trusted = await runKvdb(["status", "--master", c.server.url, "--tls-ca", c.ca.cert], {}, 30_000, command);
    assert.is(trusted.code, 0, trusted.stderr + trusted.stdout);
    assert.match(trusted.stdout, /^OK/m);
  });

  test(`${runtime}: SIGHUP serves the renewed certificate to new connections; a download under way goes on to its last byte`, async () => {
    const value = bytes(8 * 1024 * 1024, 3);
    assert.is((await curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:", "--data-binary", `@${writeTo(c.dir, value)}`, "-X", "PUT", url("/tls/reload"))).stdout, "201");
    const location = (await curl("-o", "/dev/null", "-w", "%{redirect_url}", url("/tls/reload"))).stdout;
    assert.is(await servedName(c.server.url, c.ca.cert), "first");
    // A download from the volume: its first bytes, then it waits while the certificate changes.
    const hash = createHash("md5");
    let received = 0;
    const res = await new Promise<IncomingMessage>((resolve, reject) => get(location, { ca: readFileSync(c.ca.cert) }, resolve).once("error", reject));
    assert.is(res.statusCode, 200);
    const first = await new Promise<Buffer>((resolve) => res.once("data", resolve));
    res.pause();
    hash.update(first);
    received += first.length;
    assert.ok(received < value.length, "the download is under way, not done");

    replace(c.served, c.renewed);
    c.server.proc.kill("SIGHUP");
    await printed(c.server, /certificates reloaded listeners=5/, 1);
    assert.is(await servedName(c.server.url, c.ca.cert), "renewed");
    assert.is(await servedName(location, c.ca.cert), "renewed");

    const done = new Promise<void>((resolve, reject) => {
      res.on("data", (d: Buffer) => {
        hash.update(d);
        received += d.length;
      });
      res.once("end", resolve);
      res.once("error", reject);
    });
    res.resume();
    await done;
    assert.is(received, value.length);
    assert.is(hash.digest("hex"), md5(value));
    // The cluster works on with the new certificate: the master's calls to its volumes trust the CA.
    assert.is((await curl("-o", "/dev/null", "-w", "%{http_code}", "-T", writeTo(c.dir, Buffer.from("after")), url("/tls/after"))).stdout, "201");
  });

  test(`${runtime}: a certificate and key that do not match are refused at SIGHUP; the server keeps the one it has`, async () => {
    writeFileSync(c.served.key, readFileSync(join(c.dir, "first.key")));
    c.server.proc.kill("SIGHUP");
    await printed(c.server, /certificate not reloaded, the previous one stays: tls: the certificate \S+ and key \S+ do not make a pair/, 1);
    assert.is(await servedName(c.server.url, c.ca.cert), "renewed");
    assert.is((await curl("-o", "/dev/null", "-w", "%{http_code}", url("/tls/after"))).stdout, "302");
  });
}

let files = 0;
/** `value` in a new file under `dir`: its path. */
function writeTo(dir: string, value: Buffer): string {
  const file = join(dir, `body-${files++}`);
  writeFileSync(file, value);
  return file;
}
