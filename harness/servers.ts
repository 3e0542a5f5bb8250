/**
 * One master or volume of a test or benchmark, in this process or as a `kvdb` process
 * (ServerOptions.runtime), started on a free port and restartable on its port with its
 * data. Started means ready: startVolume/startMaster have returned, or the process has
 * printed its start line (harness/kvdb.ts spawnKvdb).
 */
import process from "node:process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { blobPath, keyPath } from "../src/keys/keys.ts";
import { startMaster } from "../src/server.ts";
import type { Running } from "../src/http/running.ts";
import { startVolume } from "../src/volume/start.ts";
import { HOST, RUNTIMES, spawnKvdb, type KvdbServer } from "./kvdb.ts";
import { masterEnv, masterFlags, masterOptions, volumeFlags, volumeOptions, type ServerOptions } from "./server-options.ts";

/** A server while it runs. */
interface Started {
  url: string;
  port: number;
  s3?: string;
  pid: number;
  child?: KvdbServer;
  stop(signal: NodeJS.Signals): Promise<number | string>;
}

/** Starts under way in this process (quietly): the output is restored when the last ends. */
let quietStarts = 0;
let saved = { log: console.log, error: console.error, write: process.stdout.write };

/**
 * Runs `start` with console.log, console.error and stdout silenced: in-process servers'
 * start lines go nowhere. Counted, so that starts running at once restore them once.
 */
async function quietly<T>(start: () => Promise<T>): Promise<T> {
  if (quietStarts++ === 0) {
    saved = { log: console.log, error: console.error, write: process.stdout.write };
    console.log = console.error = () => {};
    process.stdout.write = (() => true) as typeof process.stdout.write;
  }
  try {
    return await start();
  } finally {
    if (--quietStarts === 0) [console.log, console.error, process.stdout.write] = [saved.log, saved.error, saved.write];
  }
}

function inProcess(running: Running): Started {
  return { ...running, pid: process.pid, stop: async () => (await running.close(), 0) };
}

function asProcess(child: KvdbServer, host: string): Started {
  const s3 = /\bs3=(https?:\/\/\S+)/.exec(child.output())?.[1];
  const scheme = new URL(child.url).protocol;
  return { url: `${scheme}//${host}:${child.port}`, port: child.port, s3, pid: child.proc.pid!, child, stop: (signal) => child.stop(signal) };
}

export abstract class Server {
  protected running?: Started;
  private stopped = false;

  constructor(
    readonly o: ServerOptions,
    /** Replaces the runtime's command for this process (say, node --cpu-prof). */
    readonly command?: readonly string[],
  ) {}

  protected abstract startHere(port: number): Promise<Running>;
  protected abstract args(port: number): string[];
  protected env(): Record<string, string> {
    return this.o.env ?? {};
  }

  private get started(): Started {
    if (!this.running) throw new Error(`${this.constructor.name} not started`);
    return this.running;
  }
  get url(): string {
    return this.started.url;
  }
  get port(): number {
    return this.started.port;
  }
  /** host:port, as the index and the master's answers name a volume. */
  get name(): string {
    return `${this.o.host ?? HOST}:${this.port}`;
  }
  /** As the master's --volumes lists it: its name, with https:// when it serves TLS. */
  get listed(): string {
    return `${this.o.tls ? "https://" : ""}${this.name}`;
  }
  /** The process serving it: this one for a server in this process. */
  get pid(): number {
    return this.started.pid;
  }
  /** The kvdb process; only for a server run as one. */
  get child(): KvdbServer {
    if (!this.started.child) throw new Error(`${this.constructor.name} runs in this process: it has no child process`);
    return this.started.child;
  }
  /** True while it runs. */
  get alive(): boolean {
    const child = this.running?.child;
    if (child) return child.proc.exitCode === null && child.proc.signalCode === null;
    return !!this.running && !this.stopped;
  }

  /**
   * Starts it on `port` (0: a free one). On a fixed port (a restart), EADDRINUSE is
   * retried for a few seconds: while it was down, an outgoing connection on this machine
   * may have been given its old port as a local (ephemeral) port for a moment.
   */
  async start(port = 0): Promise<this> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.running = await this.launch(port);
        this.stopped = false;
        return this;
      } catch (e) {
        if (port === 0 || attempt === 20 || !/EADDRINUSE/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async launch(port: number): Promise<Started> {
    const runtime = this.o.runtime ?? "in-process";
    if (runtime === "in-process") return inProcess(await quietly(() => this.startHere(port)));
    const command = this.command ?? RUNTIMES[runtime];
    return asProcess(await spawnKvdb(this.args(port), this.env(), this.o.readyTimeoutMs ?? 15_000, command), this.o.host ?? HOST);
  }

  /** Sends `signal` to its process, if started (SIGSTOP, SIGCONT…), without waiting. */
  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.proc.kill(signal);
  }

  /** Starts it again on its port, with its data. */
  restart(): Promise<this> {
    return this.start(this.port);
  }

  /**
   * Stops it, and resolves to the process's exit code or signal (a server in this process
   * closes, whatever the signal: 0). SIGKILL after 15 s for a signal it may handle slowly.
   * Nothing to do when it never started or has stopped.
   */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<number | string> {
    if (!this.running || (!this.running.child && this.stopped)) return 0;
    this.stopped = true;
    return this.running.stop(signal);
  }
}

/** A volume: its data in `dir`. */
export class VolumeServer extends Server {
  constructor(
    readonly dir: string,
    o: ServerOptions = {},
    command?: readonly string[],
  ) {
    super(o, command);
  }

  protected startHere(port: number): Promise<Running> {
    return startVolume(volumeOptions(this.o, this.dir, port));
  }
  protected args(port: number): string[] {
    return volumeFlags(this.o, this.dir, port);
  }

  /** Files (names) in the volume's temp dir. */
  tmpFiles(): string[] {
    try {
      return readdirSync(join(this.dir, "tmp"));
    } catch {
      return [];
    }
  }

  /** Bytes in the volume's temp dir. */
  tmpBytes(): number {
    let n = 0;
    for (const f of this.tmpFiles()) {
      try {
        n += statSync(join(this.dir, "tmp", f)).size;
      } catch {
        // renamed or removed meanwhile
      }
    }
    return n;
  }

  /**
   * Whether the blob file for `key` exists on this volume's disk, running or not: only
   * values past the inline threshold have one (harness/data.ts fileSized).
   */
  hasBlob(key: string): boolean {
    try {
      statSync(join(this.dir, "blobs", blobPath(key)));
      return true;
    } catch {
      return false;
    }
  }
}

/** A master of `volumes()` (asked at each start), its index at `db`. */
export class MasterServer extends Server {
  constructor(
    readonly db: string,
    readonly volumes: () => string[],
    o: ServerOptions = {},
    command?: readonly string[],
  ) {
    super(o, command);
  }

  /** Its S3 endpoint, when it serves one (ServerOptions.s3). */
  get s3(): string | undefined {
    return this.running?.s3;
  }

  protected startHere(port: number): Promise<Running> {
    return startMaster(masterOptions(this.o, this.volumes(), this.db, port));
  }
  protected args(port: number): string[] {
    return masterFlags(this.o, this.volumes(), this.db, port);
  }
  protected env(): Record<string, string> {
    return masterEnv(this.o);
  }
}

/**
 * Whether a running volume (`url`, no --private) holds `key` in either form, a file or
 * inline in its catalog (docs/VOLUME-STORAGE.md): its own answer to a HEAD.
 */
export async function volumeHolds(volume: { url: string }, key: string): Promise<boolean> {
  const res = await fetch(`${volume.url}${keyPath(key)}`, { method: "HEAD" });
  if (res.status !== 200 && res.status !== 404) throw new Error(`HEAD ${key} on ${volume.url}: ${res.status}`);
  return res.status === 200;
}
