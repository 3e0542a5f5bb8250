/**
 * A real PostgreSQL for the tests, from the Debian package's binaries
 * (/usr/lib/postgresql/<version>/bin; .ci/run installs `postgresql` where it is
 * missing): a fresh cluster in a temp dir, listening on a loopback port and a socket
 * in that dir, stopped and removed after. PostgreSQL refuses to run as root, so under
 * root the server runs as the package's `postgres` user.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { freePort, HOST } from "./kvdb.ts";
import { tempDir } from "./paths.ts";

/** The newest installed server's bin dir. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "pg_ctl"))) : [];
  if (!versions.length) throw new Error(`no PostgreSQL server under ${root}: apt-get install postgresql (as .ci/run does)`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

/** Who runs the server: this process's user, or `postgres` under root. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("running as root and there is no postgres user to run PostgreSQL as (apt-get install postgresql makes one)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export interface Postgres {
  /** postgres://kvdb@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  port: number;
  /** Runs one SQL statement with psql, as the superuser; its output. */
  psql(statement: string, database?: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
}

/** `durable`: fsync on, as a production server runs (bench/masters.ts); the tests run without. */
export async function startPostgres(o: { durable?: boolean } = {}): Promise<Postgres> {
  const bin = binDir();
  const who = runAs();
  const dir = tempDir("kvdb-pg");
  const data = join(dir, "data");
  if (who.uid !== undefined) chownSync(dir, who.uid, who.gid!);
  const run = (tool: string, args: string[]) =>
    execFileSync(join(bin, tool), args, { ...who, cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } }).toString();
  // Trust on loopback only: a throwaway server; fsync off: the tests' commits need not outlive the machine.
  run("initdb", ["-D", data, "-U", "kvdb", "--auth=trust", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  const fast = o.durable ? "" : " -c fsync=off -c full_page_writes=off";
  const options = `-c listen_addresses=${HOST} -p ${port} -k ${dir}${fast} -c max_connections=200`;
  const pg: Postgres = {
    port,
    url: (database = "kvdb") => `postgres://kvdb@${HOST}:${port}/${database}`,
    psql: (statement, database = "kvdb") => run("psql", ["-X", "-q", "-A", "-t", "-h", dir, "-p", String(port), "-U", "kvdb", "-d", database, "-c", statement]),
    async start() {
      run("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
    },
    async stop() {
      run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
    },
    async close() {
      process.off("exit", leftover);
      leftover();
    },
  };
  // A test file that exits early (a failed hook, process.exit) must not leave its server running.
  const leftover = () => {
    try {
      run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", leftover);
  await pg.start();
  pg.psql("CREATE DATABASE kvdb", "postgres");
  return pg;
}

/** A fresh database on `pg` for one test, so tests never see each other's keys. */
let databases = 0;
export function freshDatabase(pg: Postgres): string {
  const name = `kvdb_${process.pid}_${++databases}`;
  pg.psql(`CREATE DATABASE ${name}`, "postgres");
  return pg.url(name);
}
