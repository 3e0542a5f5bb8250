/**
 * Safe by default (issue 26): a master that anyone on the network could write to must
 * say so. One that listens beyond loopback with no client authentication refuses to
 * start unless the operator allowed anonymous access for a trusted network.
 */

/** What anonymous clients may do: everything (today's curl API), only read, or nothing (`kvdb server` on loopback says so to need keys). */
export type Anonymous = "all" | "read" | "none";

/** The anonymous levels `--allow-anonymous` takes; given bare it means "all". */
export const ANONYMOUS_LEVELS: readonly Anonymous[] = ["all", "read", "none"];

/** 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Throws the one line that refuses to start when `hostname` is beyond loopback, no
 * client authentication is configured (`authenticated`), and anonymous writes were not
 * allowed on purpose; unless the index was serving so before the rule (`predates`:
 * upgrade.ts), for which it returns the line to warn with.
 */
export function refuseExposed(hostname: string, anonymous: Anonymous | undefined, authenticated: boolean, predates = false): string | undefined {
  if (isLoopback(hostname) || authenticated || anonymous === "all") return undefined;
  if (predates) {
    return `serving the curl API on ${hostname} without client authentication, as before: this index predates the safe default. ` +
      `Create a key (kvdb keys create NAME), or give --allow-anonymous to say so (docs/PRODUCTION.md, Upgrading)`;
  }
  throw new Error(
    `refusing to serve the curl API on ${hostname} without client authentication: anyone who can reach it could write and delete. ` +
      `Create a key (kvdb keys create --bootstrap --db INDEX NAME), listen on 127.0.0.1 (--host), or give --allow-anonymous (KVDB_ALLOW_ANONYMOUS=1) on a trusted network (docs/SECURITY.md)`,
  );
}
