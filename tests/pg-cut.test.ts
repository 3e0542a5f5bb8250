/**
 * A connection to PostgreSQL cut at its very first query — what a database restarting
 * under load does to a connection that has just logged in. A proxy between the master
 * and the server answers that query as PostgreSQL's own shutdown does (57P01, then the
 * socket closes). That query must fail as every request that needs the index answers
 * ("unavailable": the curl API's 503), and nothing else: no unhandled rejection (a
 * crashed master), no later query failing with the cut connection's error
 * (src/master/index/pg-connection.ts turns postgres.js's per-connection type query off).
 */
import { connect as tcp, createServer, type Server, type Socket } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HOST } from "../harness/kvdb.ts";
import { KvdbError } from "../src/errors.ts";
import { connect, run } from "../src/master/index/pg-connection.ts";
import { parse, serialize } from "../src/master/index/pg-text-array.ts";
import { freshDatabase, startPostgres, type Postgres } from "../harness/postgres.ts";

/** PostgreSQL's ErrorResponse for a backend terminated by pg_terminate_backend or a fast shutdown. */
function terminated(): Buffer {
  const fields = ["SFATAL", "VFATAL", "C57P01", "Mterminating connection due to administrator command"];
  const body = Buffer.concat([...fields.map((f) => Buffer.from(f + "\0")), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write("E");
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

interface CuttingProxy {
  port: number;
  /** Connections through the proxy still open. */
  open: number;
  /** How many connections were cut at their first query. */
  cuts: number;
  /** Cut the first query of the next connection that opens. */
  arm(): void;
  close(): Promise<void>;
}

async function cuttingProxy(target: number): Promise<CuttingProxy> {
  let armed = false;
  const sockets = new Set<Socket>();
  const proxy: CuttingProxy = {
    port: 0,
    open: 0,
    cuts: 0,
    arm: () => (armed = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((client) => {
    const upstream = tcp(target, HOST);
    const cut = armed;
    armed = false;
    proxy.open++;
    sockets.add(client).add(upstream);
    client.once("close", () => (proxy.open--, upstream.destroy()));
    upstream.once("close", () => client.end());
    client.on("error", () => {});
    upstream.on("error", () => {});
    upstream.pipe(client);
    // Client messages: a startup message (length first, no type byte), then type + length.
    let pending = Buffer.alloc(0);
    let started = false;
    client.on("data", (chunk: Buffer) => {
      if (!cut) return void upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const at = started ? 1 : 0;
        if (pending.length < at + 4) return;
        const length = at + pending.readUInt32BE(at);
        if (pending.length < length) return;
        const type = started ? String.fromCharCode(pending[0]) : "";
        if (type === "Q" || type === "P") {
          proxy.cuts++;
          upstream.unpipe(client);
          upstream.destroy();
          client.end(terminated());
          return;
        }
        upstream.write(pending.subarray(0, length));
        pending = pending.subarray(length);
        started = true;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}

let pg: Postgres;
let proxy: CuttingProxy;
let url: string;
const unhandled: unknown[] = [];
const note = (e: unknown) => unhandled.push(e);

test.before(async () => {
  process.on("unhandledRejection", note);
  pg = await startPostgres();
  const db = new URL(freshDatabase(pg));
  proxy = await cuttingProxy(pg.port);
  db.port = String(proxy.port);
  url = db.toString();
});

test.after(async () => {
  process.off("unhandledRejection", note);
  await proxy?.close();
  await pg?.close();
});

test("a connection cut at its first query fails that query with 503 'index unavailable'; nothing else fails, and the next query succeeds", async () => {
  const sql = connect(url);
  try {
    proxy.arm(); // a new pool: its first connection opens for the query below
    const cut = await run(sql`SELECT 1 AS one`).catch((e: KvdbError) => e);
    assert.instance(cut, KvdbError);
    assert.is((cut as KvdbError).kind, "unavailable");
    assert.match((cut as KvdbError).message, /^index unavailable: /);
    assert.is(proxy.cuts, 1);

    const [row] = await run(sql<{ one: number }[]>`SELECT 1 AS one`);
    assert.is(row.one, 1);
    await new Promise((r) => setImmediate(r)); // an unhandled rejection is reported after the microtasks
    assert.equal(unhandled, []);
  } finally {
    await sql.end({ timeout: 1 }); // as the master closes (postgres.ts): a connection cut mid-query never ends by itself
  }
});

test("text[] goes both ways through the connection without postgres.js's type query", async () => {
  const sql = connect(url);
  try {
    const names = ["127.0.0.1:3001", 'odd "name", with\\ all', ""];
    const [row] = await run(sql<{ v: string[]; n: number }[]>`SELECT ${names}::text[] AS v, array_length(${names}::text[], 1) AS n`);
    assert.equal(row.v, names);
    assert.is(row.n, 3);
  } finally {
    await sql.end({ timeout: 1 }); // as the master closes (postgres.ts): a connection cut mid-query never ends by itself
  }
});

test("text[] literals: what PostgreSQL prints parses back, and what kvdb sends is read back the same", () => {
  assert.equal(parse("{}"), []);
  assert.equal(parse("{127.0.0.1:3001,127.0.0.1:3002}"), ["127.0.0.1:3001", "127.0.0.1:3002"]);
  assert.equal(parse('{"a b","c,d","e\\"f","g\\\\h"}'), ["a b", "c,d", 'e"f', "g\\h"]);
  const names = ["v1:80", 'odd "name", with\\ all', ""];
  assert.equal(parse(serialize(names)), names);
  assert.is(pg.psql(`SELECT array_length('${serialize(names)}'::text[], 1)`).trim(), "3");
  assert.is(pg.psql(`SELECT ('${serialize(names)}'::text[])::text`).trim(), '{v1:80,"odd \\"name\\", with\\\\ all",""}');
  assert.equal(parse(pg.psql(`SELECT ('${serialize(names)}'::text[])::text`).trim()), names);
});

test.run();
