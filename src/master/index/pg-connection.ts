/**
 * The connection pool to PostgreSQL (postgres.js: pure JavaScript, so the same code
 * runs under Node, Deno and the Bun binary). Every query goes through run(): whatever
 * goes wrong between the master and the database — refused, cut, restarted, too slow —
 * becomes a KvdbError "unavailable" (the curl API's 503 "index unavailable"), never a
 * 404 or an empty list. The pool reconnects by itself: each query after the database
 * is back opens a fresh connection.
 */
import postgres from "postgres";
import { KvdbError } from "../../errors.ts";
import { textArray } from "./pg-text-array.ts";

export type Sql = postgres.Sql;

/** A query that has not answered by then fails (and is cancelled), so a hung database cannot hang a request. */
const QUERY_DEADLINE_MS = 10_000;

/** Keys are stored as their UTF-8 bytes (bytea): byte order is the order LevelDB lists them in. */
export const keyBytes = (key: string) => Buffer.from(key, "utf8");

/** Whether `location` names a PostgreSQL database rather than a directory. */
export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/** The URL without its password, for start lines and messages. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}

export function connect(url: string): Sql {
  return postgres(url, {
    max: 8,
    connect_timeout: 5,
    // postgres.js would start every new connection with a query for the server's array
    // types and drop that query's promise: a connection cut just then (a database
    // restarting) killed the process with an unhandled rejection and failed the next
    // query with the old connection's error (tests/pg-cut.test.ts). text[] is declared instead.
    fetch_types: false,
    types: { textArray },
    // Reconnect soon once the database is back: postgres.js's default waits grow with
    // each failed attempt to 20 s, longer than a query's deadline.
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 1),
    onnotice: () => {}, // "relation already exists, skipping" on every start
    connection: { application_name: "kvdb master" },
  });
}

/** The database's failure as every request that needs the index answers it ("unavailable": a 503 on the curl API). */
export function unavailable(e: unknown): KvdbError {
  if (e instanceof KvdbError) return e;
  const err = e as Error & { code?: string };
  const code = err.code && !err.message.includes(err.code) ? ` (${err.code})` : "";
  return new KvdbError("unavailable", `index unavailable: ${err.message}${code}`, { cause: e });
}

/** Runs one query (or a few, in a transaction) with a deadline; any failure is "unavailable". */
export async function run<T>(query: PromiseLike<T> & { cancel?: () => unknown }): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      query.cancel?.();
      reject(new Error(`no answer from the database in ${QUERY_DEADLINE_MS / 1000} s`));
    }, QUERY_DEADLINE_MS);
  });
  try {
    return await Promise.race([query, deadline]);
  } catch (e) {
    throw unavailable(e);
  } finally {
    clearTimeout(timer);
  }
}

/** Rows per page of a keyset scan. */
export const PAGE = 256;

/**
 * Every row of a keyset-paged query: `page(last)` fetches up to PAGE rows after the
 * last one of the previous page (undefined: the first page). Nothing holds a cursor or
 * a connection between pages, so a slow reader costs the database nothing.
 */
export async function* pages<R>(page: (last: R | undefined) => Promise<R[]>): AsyncGenerator<R> {
  let last: R | undefined;
  for (;;) {
    const rows = await page(last);
    yield* rows;
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1];
  }
}
