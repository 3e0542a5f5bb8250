/**
 * What a key costs the PostgreSQL index on disk, as the schema stores it (pg-schema.ts,
 * version 2: volumes as text[] of names, md5 as hex text) and as a version 3 could
 * (volumes as smallint[] ids, md5 as bytea): fills each table with N synthetic live
 * records like bench/index-size.ts's (keys /data/xxxxxxxx/nnnnnnnn/photo.jpg, 3 of 100
 * volumes named host:port), in SQL (generate_series), VACUUMs, and prints the table's
 * and its primary key's bytes per key. A throwaway server (harness/postgres.ts).
 *
 *   node dist/node/bench/pg-row-size.js [--keys 1000000]
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { startPostgres } from "../harness/postgres.ts";

const { values: args } = parseArgs({ options: { keys: { type: "string", default: "1000000" } } });
const KEYS = Number(args.keys);
if (!Number.isSafeInteger(KEYS) || KEYS < 1) throw new Error("--keys must be a positive integer");

const KEY = `convert_to('/data/' || lpad(to_hex(i >> 12), 8, '0') || '/' || lpad(i::text, 8, '0') || '/photo.jpg', 'UTF8')`;
const NAME = (n: string) => `'10.0.' || ((${n}) / 16) || '.' || ((${n}) % 16 + 10) || ':3001'`;
const MD5 = "md5(i::text)";
const COMMON = `'live', 1000000 + (i::bigint * 2654435761) % 999000000, 1795000000000 + i::bigint * 37, 1`;

const LAYOUTS = {
  "v2 (text[] names, hex md5)": {
    table: `CREATE TABLE t (key bytea PRIMARY KEY, state text NOT NULL, volumes text[] NOT NULL, size bigint NOT NULL, md5 text NOT NULL, written bigint NOT NULL, version bigint NOT NULL, owner text, blob bytea, type text, meta jsonb, etag text)`,
    fill: `INSERT INTO t (key, state, size, written, version, volumes, md5) SELECT ${KEY}, ${COMMON}, ARRAY[${NAME("i * 7919 % 100")}, ${NAME("(i * 7919 + 1) % 100")}, ${NAME("(i * 7919 + 2) % 100")}], ${MD5} FROM generate_series(0::bigint, ${KEYS - 1}) AS i`,
  },
  "v3 candidate (smallint[] ids, bytea md5)": {
    table: `CREATE TABLE t (key bytea PRIMARY KEY, state "char" NOT NULL, volumes smallint[] NOT NULL, size bigint NOT NULL, md5 bytea NOT NULL, written bigint NOT NULL, version bigint NOT NULL, owner text, blob bytea, type text, meta jsonb, etag text)`,
    fill: `INSERT INTO t (key, state, size, written, version, volumes, md5) SELECT ${KEY}, 'l', 1000000 + (i::bigint * 2654435761) % 999000000, 1795000000000 + i::bigint * 37, 1, ARRAY[i * 7919 % 100, (i * 7919 + 1) % 100, (i * 7919 + 2) % 100]::smallint[], decode(${MD5}, 'hex') FROM generate_series(0::bigint, ${KEYS - 1}) AS i`,
  },
};

const pg = await startPostgres();
try {
  for (const [name, { table, fill }] of Object.entries(LAYOUTS)) {
    pg.psql("DROP TABLE IF EXISTS t");
    pg.psql(table);
    pg.psql(fill);
    pg.psql("VACUUM ANALYZE t");
    const [heap, pkey] = pg.psql("SELECT pg_table_size('t'), pg_indexes_size('t')").trim().split("|").map(Number);
    console.log(`${name.padEnd(42)} ${KEYS} keys: ${((heap + pkey) / KEYS).toFixed(1)} bytes/key (table ${(heap / KEYS).toFixed(1)}, primary key ${(pkey / KEYS).toFixed(1)})`);
  }
} finally {
  await pg.close();
}
process.exit(0);
