/**
 * Test clusters: real masters and volumes on loopback ports, either in this process
 * (fast) or as child processes (for kill -9). Data lives in a fresh temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMaster, type MasterOptions } from "../src/master/start.ts";
import type { Running } from "../src/http/running.ts";
import { startVolume } from "../src/volume/start.ts";

export const HOST = "127.0.0.1";
/** The compiled entrypoint, as `npx kvdb` runs it. */
export const KVDB = join(dirname(fileURLToPath(import.meta.url)), "..", "mod.js");
/** The repository (this file runs from dist/node/tests). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The command that runs `kvdb` under each runtime: compiled JS on Node, the TypeScript source on Deno and Bun. */
export const RUNTIMES = {
  node: [KVDB], // through its shebang, as `npx kvdb` runs it
  // As `deno task kvdb` runs it (deno.json).
  deno: [join(REPO, "node_modules", ".bin", "deno"), "run", "-A", "--v8-flags=--max-semi-space-size=1", join(REPO, "mod.ts")],
  bun: [join(REPO, "node_modules", ".bin", "bun"), join(REPO, "mod.ts")],
} as const satisfies Record<string, readonly string[]>;

export function tempDir(label = "kvdb"): string {
  return mkdtempSync(join(tmpdir(), `${label}-`));
}

/** The S3 credentials of test clusters. */
export const S3_KEYS = { accessKey: "KVDBTESTACCESSKEY", secretKey: "kvdb-test-secret-key/with+signs" };

export interface Cluster {
  url: string;
  /** The S3 endpoint, when started with s3. */
  s3?: string;
  master: Running;
  volumes: (Running & { name: string; dir: string })[];
  dir: string;
  close(): Promise<void>;
}

/** n volumes and a master, all in this process. Quiet: start lines go nowhere. */
export async function startCluster(
  o: {
    volumes?: number;
    replicas?: number;
    proxy?: boolean;
    dir?: string;
    secret?: string;
    private?: boolean;
    urlTtl?: number;
    maxSize?: number;
    /** For masters and volumes alike. */
    idleTimeoutMs?: number;
    /** The master's volume timeout. */
    timeoutMs?: number;
    /** Serve S3 too (on a free port, with S3_KEYS); its URL is Cluster.s3. */
    s3?: boolean;
    /** See MasterOptions.s3.uploadTtlMs. */
    s3UploadTtlMs?: number;
  } = {},
): Promise<Cluster> {
  const dir = o.dir ?? tempDir();
  const log = console.log;
  const warn = console.error;
  console.log = console.error = () => {};
  try {
    const volumes: Cluster["volumes"] = [];
    for (let i = 0; i < (o.volumes ?? 3); i++) {
      const vdir = join(dir, `v${i}`);
      const v = await startVolume({ dir: vdir, port: 0, hostname: HOST, verbose: false, secret: o.secret, private: o.private, maxSize: o.maxSize, idleTimeoutMs: o.idleTimeoutMs });
      volumes.push({ ...v, name: `${HOST}:${v.port}`, dir: vdir });
    }
    const options: MasterOptions = {
      volumes: volumes.map((v) => v.name),
      db: join(dir, "master"),
      port: 0,
      hostname: HOST,
      replicas: o.replicas ?? Math.min(3, volumes.length),
      proxy: o.proxy ?? false,
      verbose: false,
      secret: o.secret,
      urlTtl: o.urlTtl,
      maxSize: o.maxSize,
      idleTimeoutMs: o.idleTimeoutMs,
      timeoutMs: o.timeoutMs,
      s3: o.s3 ? { port: 0, ...S3_KEYS, uploadTtlMs: o.s3UploadTtlMs } : undefined,
    };
    const master = await startMaster(options);
    return {
      url: master.url,
      s3: master.s3,
      master,
      volumes,
      dir,
      async close() {
        await master.close();
        await Promise.all(volumes.map((v) => v.close()));
        if (!o.dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } finally {
    console.log = log;
    console.error = warn;
  }
}

export interface Child {
  proc: ChildProcess;
  url: string;
  port: number;
  output(): string;
  /** Sends a signal and waits for the process to exit; resolves to its exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * A child's environment: this process's, less the KVDB_* and PORT settings a developer
 * may have exported (they would change every server a test starts), plus `env`.
 */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KVDB_") && k !== "PORT") base[k] = v;
  return { ...base, ...env };
}

/** A loopback port free at the time of asking (something else may take it after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs `kvdb ...args` (under Node unless `command` says otherwise, from the repo root)
 * and resolves once it printed its start line ("kvdb <role> url=...", the master's
 * for `server`): a readiness check, not a sleep.
 */
export function spawnKvdb(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
  command: readonly string[] = RUNTIMES.node,
): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command[0], [...command.slice(1), ...args], {
      cwd: REPO,
      env: childEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const exited = new Promise<number | string>((r) => proc.once("exit", (code, sig) => r(code ?? sig ?? -1)));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`kvdb ${args.join(" ")} did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      const role = args[0] === "server" ? "master" : args[0];
      // `server` prints its volumes' start lines first: look for this role's line.
      const m = new RegExp(`^kvdb ${role} url=http://[^\\s:]+:(\\d+)`, "m").exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          proc,
          port,
          url: `http://${HOST}:${port}`,
          output: () => out,
          stop(signal = "SIGKILL") {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    };
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command[0]}: ${e.message}`));
    });
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (d) => (out += d));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kvdb ${args.join(" ")} exited with ${code} before starting:\n${out}`));
    });
  });
}

/** Polls `check` until it holds (a readiness check with a deadline, not a fixed sleep). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Ran {
  code: number | string;
  stdout: string;
  stderr: string;
}

/**
 * Runs `kvdb ...args` to completion (a command, not a server), with the caller's KVDB_*
 * and PORT variables left out so only `env` sets them; killed after `timeoutMs`.
 * `command`: how kvdb is run (RUNTIMES), Node by default.
 */
export function runKvdb(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000, command: readonly string[] = RUNTIMES.node): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command[0], [...command.slice(1), ...args], { cwd: REPO, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (d) => (stdout += d));
    proc.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? -1, stdout, stderr });
    });
  });
}
