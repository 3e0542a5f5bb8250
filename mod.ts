#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.top_pad=16777216:${GLIBC_TUNABLES} node --max-semi-space-size=2
/**
 * (The shebang's small young generation keeps a Node master's RSS flat while it streams
 * gigabytes: V8 otherwise lets 16 MiB semi-spaces of dead chunk wrappers pile up. Its
 * malloc top pad keeps 16 MiB of freed heap mapped instead of handing it back to the
 * kernel after every burst: each socket read gets a new buffer, and memory given back is
 * page-faulted in again, ~1 ms of CPU per MB received (docs/PERFORMANCE.md, "Page faults").)
 *
 * kvdb: one program, every role. cac picks the command; each command reads its
 * options from flags first, then from the environment, then its default.
 */
import process from "node:process";
import { cac, type Command } from "cac";
import { UsageError, dbOf, inlineMaxOf, flag, idleTimeoutOf, integer, logFormatOf, masterOf, masterSettings, replicasOf, secretOf, sizeOf, text, tlsOf, trustOf, volumesOf } from "./src/cli/options.ts";
import { logLine, setLogFormat } from "./src/observe/logger.ts";
import { printStatus } from "./src/ops/status.ts";
import { serveUntilSignal } from "./src/cli/serve.ts";
import { s3Settings, S3_HELP } from "./src/cli/s3-options.ts";
import { bench } from "./src/loadgen/bench.ts";
import { benchOptions, DEFAULTS as BENCH } from "./src/loadgen/options.ts";
import { SERVER_VOLUMES, startMaster, startServer } from "./src/server.ts";
import { startVolume } from "./src/volume/start.ts";
import { runJob } from "./src/ops/job-client.ts";
import { migrateIndex } from "./src/ops/migrate-index.ts";
import { rebuild } from "./src/ops/rebuild.ts";
import { bootstrapKey, callKeys } from "./src/ops/keys.ts";
import { parseGrant, type Grant } from "./src/auth/keys.ts";
import { VERSION } from "./src/version.ts";
import { keepFreedMemory } from "./src/runtime/bun-memory.ts";

const env = process.env;

/** Help of the options several commands take. */
const HELP = {
  host: "Address to listen on (env KVDB_HOST, default 0.0.0.0)",
  serverHost: "Address to listen on (env KVDB_HOST, default 127.0.0.1: this machine only)",
  allowAnonymous:
    "Let clients without a key in: all (given bare), read or none; needed to listen beyond loopback without keys, on a trusted network; server on loopback: all unless given (env KVDB_ALLOW_ANONYMOUS)",
  secret: "Shared secret of master and volumes: signs volume requests and redirect URLs (env KVDB_SECRET)",
  private: "Refuse unsigned reads too (env KVDB_PRIVATE)",
  maxSize: "Largest value accepted, e.g. 1GiB, 512MiB, 1000; 413 beyond it (env KVDB_MAX_SIZE, default no limit)",
  idleTimeout:
    "Seconds a connection may sit idle (no byte moving) before it is closed; headers must arrive within min(20, this) (env KVDB_IDLE_TIMEOUT, default 60)",
  verbose: "Log one line per request (env KVDB_VERBOSE)",
  logFormat: "Log lines as text (default) or json, one object per line (env KVDB_LOG_FORMAT)",
  clusterSecret: "The cluster's shared secret (env KVDB_SECRET)",
  token: "A key's token, ID.SECRET, when the master authenticates (env KVDB_TOKEN)",
  tlsCert: "Serve HTTPS with this certificate (PEM, chain after it), read again on SIGHUP (env KVDB_TLS_CERT)",
  tlsKey: "The private key of --tls-cert, PEM (env KVDB_TLS_KEY)",
  tlsCa: "Trust the CA certificates in this PEM file for calls to https:// servers, besides the system's (env KVDB_TLS_CA)",
};

/** --token, else KVDB_TOKEN. */
const tokenOf = (value: unknown) => {
  const token = value ?? env.KVDB_TOKEN;
  return token === undefined || token === "" ? undefined : String(token);
};

/** The options `master` and `server` share (read by masterSettings and s3Settings). */
function masterOptions(cmd: Command, secretHelp = HELP.secret, s3PortHelp = S3_HELP.port): Command {
  return cmd
    .option("--s3-port <port>", s3PortHelp)
    .option("--s3-access-key <key>", S3_HELP.accessKey)
    .option("--s3-secret-key <key>", S3_HELP.secretKey)
    .option("--s3-upload-ttl <s>", S3_HELP.uploadTtl)
    .option("--allow-anonymous [what]", HELP.allowAnonymous)
    .option("--metrics-public", "Serve /_kvdb/metrics without a key when authentication is on, for Prometheus (env KVDB_METRICS_PUBLIC)")
    .option("--proxy", "Stream GET bodies through the master instead of redirecting (env KVDB_PROXY)")
    .option("--volume-timeout <s>", "Seconds a volume may stall before its request fails (env KVDB_VOLUME_TIMEOUT, default 30)")
    .option("--min-replicas <n>", "Replicas a PUT needs fsynced to succeed; the rest are owed and copied by the janitor (env KVDB_MIN_REPLICAS, default --replicas)")
    .option("--busy-wait <s>", "Seconds a PUT, DELETE or UNLINK waits for another operation on its key before 503 + Retry-After (env KVDB_BUSY_WAIT, default 5)")
    .option("--secret <s>", secretHelp)
    .option("--url-ttl <s>", "Seconds a signed redirect URL stays good (env KVDB_URL_TTL, default 60)")
    .option("--max-size <bytes>", HELP.maxSize)
    .option("--direct-threshold <bytes>", "Larger PUTs sent with Expect: 100-continue go straight to a volume (307), or off (env KVDB_DIRECT_THRESHOLD, default 256KiB)")
    .option("--idle-timeout <s>", HELP.idleTimeout)
    .option("--tls-cert <file>", HELP.tlsCert)
    .option("--tls-key <file>", HELP.tlsKey)
    .option("--tls-ca <file>", HELP.tlsCa)
    .option("--verbose", HELP.verbose)
    .option("--log-format <format>", HELP.logFormat);
}

const cli = cac("kvdb");

masterOptions(
  cli
    .command("master [volumes] [db]", "Serve the public API; the index lives in LevelDB at DB, or in PostgreSQL (several masters)")
    .option("--volumes <list>", "Volume servers, comma-separated host:port or host:port=zone; a volume's zone is its host by default (env KVDB_VOLUMES)")
    .option("--db <dir|url>", "Index directory, or postgres://user@host:port/dbname shared by several masters (env KVDB_DB)")
    .option("--lease <s>", "PostgreSQL: seconds before another master finishes what this one left in flight, if it stops renewing (env KVDB_LEASE, default 10)")
    .option("--port <port>", "Port (env PORT, default 3000)")
    .option("--host <addr>", HELP.host)
    .option("--replicas <n>", "Copies of each value (env KVDB_REPLICAS, default min(3, volumes))"),
)
  .example("kvdb master localhost:3001,localhost:3002 /tmp/cachedb/")
  .example("kvdb master --volumes 127.0.0.1:3001,127.0.0.1:3002 --db /tmp/idx --port 3000 --replicas 2")
  .example("kvdb master --volumes 10.0.0.1:3001=rack1,10.0.0.2:3001=rack1,10.0.0.3:3001=rack2 --db /var/lib/kvdb/index")
  .example("kvdb master --volumes 10.0.0.1:3001,10.0.0.2:3001 --db postgres://kvdb@db.internal:5432/kvdb")
  .action((volumesArg, dbArg, o) => {
    setLogFormat(logFormatOf(o.logFormat));
    const volumes = volumesOf(volumesArg, o.volumes, env.KVDB_VOLUMES);
    return serveUntilSignal(
      startMaster({
        ...masterSettings(o),
        s3: s3Settings(o),
        volumes,
        db: dbOf(dbArg, o.db, env.KVDB_DB),
        leaseSeconds: integer("lease", o.lease ?? env.KVDB_LEASE ?? 10, 1, 3600),
        port: integer("port", o.port ?? env.PORT ?? 3000, 0, 65535),
        ...replicasOf(o, Math.min(3, volumes.length), volumes.length),
      }),
    );
  });

cli
  .command("volume [dir]", "Serve the blobs stored under DIR")
  .option("--port <port>", "Port (env PORT, default 3001)")
  .option("--host <addr>", HELP.host)
  .option("--secret <s>", HELP.secret)
  .option("--previous-secret <s>", "Also accepted, while rotating to a new --secret (env KVDB_PREVIOUS_SECRET)")
  .option("--private", HELP.private)
  .option("--max-size <bytes>", HELP.maxSize)
  .option("--idle-timeout <s>", HELP.idleTimeout)
  .option("--max-bytes <bytes>", "Capacity cap, e.g. 10GiB: free space reported and accepted is at most this minus what is held; 507 beyond (env KVDB_MAX_BYTES)")
  .option("--inline-max <bytes>", "Values up to this size live in the catalog, not in files, 0 turns it off (docs/VOLUME-STORAGE.md; env KVDB_INLINE_MAX, default 32KiB)")
  .option("--tls-cert <file>", HELP.tlsCert)
  .option("--tls-key <file>", HELP.tlsKey)
  .option("--tls-ca <file>", HELP.tlsCa)
  .option("--verbose", HELP.verbose)
  .option("--log-format <format>", HELP.logFormat)
  .example("PORT=3002 kvdb volume /tmp/v2")
  .action((dir, o) => {
    setLogFormat(logFormatOf(o.logFormat));
    const secret = secretOf(o.secret);
    const isPrivate = flag(o.private, env.KVDB_PRIVATE);
    if (isPrivate && !secret) throw new UsageError("--private needs --secret (or KVDB_SECRET)");
    if (o.previousSecret && !secret) throw new UsageError("--previous-secret needs --secret (or KVDB_SECRET)");
    trustOf(o.tlsCa); // for its calls to other volumes (direct writes, copies) and the master
    return serveUntilSignal(
      startVolume({
        dir: text("dir", dir, env.KVDB_DIR),
        port: integer("port", o.port ?? env.PORT ?? 3001, 0, 65535),
        hostname: text("host", o.host, env.KVDB_HOST, "0.0.0.0"),
        verbose: flag(o.verbose, env.KVDB_VERBOSE),
        secret,
        previousSecret: secretOf(o.previousSecret ?? env.KVDB_PREVIOUS_SECRET ?? ""),
        private: isPrivate,
        maxSize: sizeOf("max-size", o.maxSize, env.KVDB_MAX_SIZE),
        idleTimeoutMs: idleTimeoutOf(o.idleTimeout),
        maxBytes: sizeOf("max-bytes", o.maxBytes, env.KVDB_MAX_BYTES),
        inlineMax: inlineMaxOf(o.inlineMax),
        tls: tlsOf(o),
      }),
    );
  });

masterOptions(
  cli
    .command("server [dir]", `All in one: a master and ${SERVER_VOLUMES} volumes in one process, data under DIR`)
    .option("--port <port>", `Master port; volumes take the next ${SERVER_VOLUMES} (env PORT, default 3000)`)
    .option("--host <addr>", HELP.serverHost)
    .option("--replicas <n>", `Copies of each value (env KVDB_REPLICAS, default ${SERVER_VOLUMES})`)
    .option("--private", HELP.private),
  `${HELP.secret.slice(0, -1)}; default: a fresh random one)`,
  S3_HELP.serverPort,
).action((dir, o) => {
  setLogFormat(logFormatOf(o.logFormat));
  const port = integer("port", o.port ?? env.PORT ?? 3000, 0, 65535 - SERVER_VOLUMES);
  return serveUntilSignal(
    startServer({
      ...masterSettings({ ...o, host: o.host ?? env.KVDB_HOST ?? "127.0.0.1" }),
      s3: s3Settings(o, port === 0 ? 0 : 9000),
      dir: text("dir", dir, env.KVDB_DIR, "./kvdb-data"),
      port,
      ...replicasOf(o, SERVER_VOLUMES, SERVER_VOLUMES),
      private: flag(o.private, env.KVDB_PRIVATE),
    }),
  );
});

cli
  .command("bench", "Load generator: small-value cycles, redirects, misses, large values; prints a table")
  .option("--master <url>", `Master to load, loopback only (env KVDB_MASTER, default ${BENCH.master})`)
  .option("--workload <list>", `Some of thrash,redirect,missing,large (env KVDB_BENCH_WORKLOAD, default all)`)
  .option("--concurrency <n>", `Concurrent clients (env KVDB_BENCH_CONCURRENCY, default ${BENCH.concurrency})`)
  .option("--size <size>", `Value size of thrash cycles, e.g. 1KiB, 4MiB (env KVDB_BENCH_SIZE, default ${BENCH.size})`)
  .option("--count <n>", `At most this many operations per workload (env KVDB_BENCH_COUNT, default ${BENCH.count})`)
  .option("--seconds <s>", `At most this long per workload (env KVDB_BENCH_SECONDS, default ${BENCH.seconds})`)
  .option("--large-size <size>", `Value size of the large workload (env KVDB_BENCH_LARGE_SIZE, default ${BENCH.largeSize})`)
  .option("--expect-over <size>", `PUTs of bodies over this send Expect: 100-continue and follow a 307, as curl -L -T does; off: never (env KVDB_BENCH_EXPECT_OVER, default ${BENCH.expectOver})`)
  .option("--token <token>", `${HELP.token.slice(0, -1)}; sent to the master only, as curl -L sends it)`)
  .option("--allow-remote", "Allow a master that is not on this machine (env KVDB_ALLOW_REMOTE)")
  .option("--json", "Print the results as JSON instead of a table (env KVDB_BENCH_JSON)")
  .option("--tls-ca <file>", HELP.tlsCa)
  .option("--existing-keys <prefix:n>", "Keys PREFIX0…PREFIX(n-1) already stored (values of --size): redirect reads random ones, missing asks between them (env KVDB_BENCH_EXISTING_KEYS)")
  .example("kvdb bench --workload thrash,missing --concurrency 32 --seconds 5")
  .example("kvdb bench --master http://127.0.0.1:3000 --workload large --large-size 1GiB --count 3")
  .action(async (o) => {
    trustOf(o.tlsCa);
    process.exit(await bench(benchOptions(o, env)));
  });

cli
  .command("rebuild", "Reconstruct a lost master index from what the volumes hold (master stopped)")
  .option("--volumes <list>", "Every volume server, comma-separated host:port (env KVDB_VOLUMES)")
  .option("--db <dir|url>", "Index to write, a directory or postgres://…; its keys are replaced (env KVDB_DB)")
  .option("--secret <s>", HELP.clusterSecret)
  .option("--tls-ca <file>", HELP.tlsCa)
  .option("--replicas <n>", "The masters' --replicas: a key found on fewer volumes is owed the rest, which the janitor copies (env KVDB_REPLICAS, default min(3, volumes))")
  .example("kvdb rebuild --volumes localhost:3001,localhost:3002 --db /tmp/idx --replicas 2")
  .action(async (o) => {
    trustOf(o.tlsCa);
    const volumes = volumesOf(o.volumes, env.KVDB_VOLUMES);
    const { replicas } = replicasOf({ replicas: o.replicas, minReplicas: 1 }, Math.min(3, volumes.length), volumes.length);
    await rebuild({ volumes, db: dbOf(o.db, env.KVDB_DB), secret: secretOf(o.secret), replicas });
  });

const KEY_VERBS = ["create", "list", "grant", "revoke", "delete"] as const;

cli
  .command("keys <verb> [name]", "Client keys: create NAME, list, grant ID, revoke ID, delete ID (through a master, as an admin key)")
  .option("--grant <level[:prefix]>", "read, write or admin, on every key or those under PREFIX (an S3 bucket: BUCKET/), or monitor (status and metrics); repeatable")
  .option("--master <url>", "The master (env KVDB_MASTER, default http://127.0.0.1:3000)")
  .option("--token <token>", `${HELP.token.slice(0, -1)}; an admin key)`)
  .option("--bootstrap", "create: write the key straight into the index (--db; a LevelDB index's master stopped): the first key")
  .option("--db <dir|url>", "The index, with --bootstrap (env KVDB_DB)")
  .option("--tls-ca <file>", HELP.tlsCa)
  .example("kvdb keys create ops --bootstrap --db /var/lib/kvdb/index")
  .example("KVDB_TOKEN=… kvdb keys create app --grant write:app/ --grant read:pub/")
  .example("KVDB_TOKEN=… kvdb keys revoke KVDB0123456789ABCDEF --grant read:pub/")
  .action(async (verb, name, o) => {
    if (!(KEY_VERBS as readonly string[]).includes(verb)) throw new UsageError(`keys: unknown verb ${JSON.stringify(verb)} (${KEY_VERBS.join(", ")})`);
    if (verb !== "list" && !name) throw new UsageError(`keys ${verb}: give the key's ${verb === "create" ? "name" : "id"}`);
    const grants = verb === "grant" || verb === "revoke" ? grantsOf(o.grant ?? usage(`keys ${verb}: give --grant`)) : grantsOf(o.grant);
    if (o.bootstrap) {
      if (verb !== "create") throw new UsageError("--bootstrap only creates a key");
      return void process.stdout.write(await bootstrapKey(dbOf(o.db, env.KVDB_DB), String(name), grants));
    }
    trustOf(o.tlsCa);
    process.stdout.write(await callKeys({ master: masterOf(o.master), token: tokenOf(o.token), verb, name: name === undefined ? undefined : String(name), grants }));
  });

/** --grant, repeatable; default admin (a first key must manage the others). */
function grantsOf(value: unknown): Grant[] {
  const given = value === undefined ? ["admin"] : [value].flat();
  return given.map((g) => parseGrant(String(g)) ?? usage(`grant must be read, write or admin, optionally :PREFIX, or monitor (got ${JSON.stringify(g)})`));
}

function usage(message: string): never {
  throw new UsageError(message);
}

cli
  .command("migrate-index", "Copy a LevelDB index into PostgreSQL and check it key for key (master stopped)")
  .option("--from <dir>", "The LevelDB index directory (env KVDB_DB)")
  .option("--to <url>", "postgres://user@host:port/dbname; its keys are replaced (env KVDB_TO)")
  .example("kvdb migrate-index --from /var/lib/kvdb/master --to postgres://kvdb@db.internal:5432/kvdb")
  .action(async (o) => {
    await migrateIndex({ from: dbOf(o.from, env.KVDB_DB), to: dbOf(o.to, env.KVDB_TO) });
  });

cli
  .command("rebalance", "Move every key to the volumes placement now chooses, online (after volumes were added or removed)")
  .option("--master <url>", "The master (env KVDB_MASTER, default http://127.0.0.1:3000)")
  .option("--secret <s>", HELP.clusterSecret)
  .option("--token <token>", `${HELP.token.slice(0, -1)}; an admin key)`)
  .option("--tls-ca <file>", HELP.tlsCa)
  .example("kvdb rebalance --master http://localhost:3000")
  .action(async (o) => {
    trustOf(o.tlsCa);
    process.exit(await runJob({ master: masterOf(o.master), kind: "rebalance", secret: secretOf(o.secret), token: tokenOf(o.token) }));
  });

cli
  .command("verify", "Check every key's replicas (present, size, md5 re-hashed on the volume); exit 0 only if all is well")
  .option("--master <url>", "The master (env KVDB_MASTER, default http://127.0.0.1:3000)")
  .option("--repair", "Re-copy missing or corrupt replicas, finish interrupted deletes, remove abandoned writes (env KVDB_REPAIR)")
  .option("--quick", "Read no bytes: compare the volumes' catalogs (md5 recorded at write, size on disk) with the index; finds lost and cut-short replicas, not bit rot")
  .option("--secret <s>", HELP.clusterSecret)
  .option("--token <token>", `${HELP.token.slice(0, -1)}; an admin key)`)
  .option("--tls-ca <file>", HELP.tlsCa)
  .example("kvdb verify --master http://localhost:3000 --repair")
  .example("kvdb verify --quick")
  .action(async (o) => {
    trustOf(o.tlsCa);
    process.exit(await runJob({ master: masterOf(o.master), kind: "verify", repair: flag(o.repair, env.KVDB_REPAIR), quick: flag(o.quick, undefined), secret: secretOf(o.secret), token: tokenOf(o.token) }));
  });

cli
  .command("status", "Print the master's status: health, volumes, capacity, replication, traffic, jobs")
  .option("--master <url>", "The master (env KVDB_MASTER, default http://127.0.0.1:3000)")
  .option("--json", "Print the status as JSON, as GET /_kvdb/status.json gives it")
  .option("--token <token>", `${HELP.token.slice(0, -1)}; a monitor or admin key)`)
  .option("--tls-ca <file>", HELP.tlsCa)
  .example("kvdb status --master http://localhost:3000")
  .action(async (o) => {
    trustOf(o.tlsCa);
    process.exit(await printStatus(masterOf(o.master), flag(o.json, undefined), tokenOf(o.token)));
  });

cli.help();
cli.version(VERSION);

function die(message: string, code: number): never {
  logLine("error", "kvdb", message, {}, `kvdb: ${message}`); // one line, JSON too under --log-format json
  process.exit(code);
}

try {
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand && !cli.options.help && !cli.options.version) {
    if (cli.args.length) throw new UsageError(`unknown command ${JSON.stringify(cli.args[0])} (see kvdb --help)`);
    cli.outputHelp();
  } else {
    // A volume under Bun first gets the allocator setting it needs (runtime/bun-memory.ts).
    if (["volume", "server"].includes(cli.matchedCommand?.name ?? "")) await keepFreedMemory();
    await cli.runMatchedCommand();
  }
} catch (e) {
  const err = e as Error;
  if (err instanceof UsageError || err.name === "CACError") die(err.message, 2);
  const code = (err as NodeJS.ErrnoException).code;
  // Bun says "Failed to start server. Is port N in use?": name the code on every runtime.
  if (code === "EADDRINUSE" || code === "EACCES") die(`cannot listen: ${err.message}${err.message.includes(code) ? "" : ` (${code})`}`, 1);
  die(err.message, 1);
}
