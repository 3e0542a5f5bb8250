/**
 * This master's lease in PostgreSQL: a row in kvdb_masters whose expiry it pushes
 * forward every third of the lease. Records a master owns (writes, deletes, job steps
 * in flight) are abandoned once its lease has run out — it was killed, or it stalled —
 * and another master's janitor then finishes or undoes them (janitor.ts). A master
 * that stalled and wakes up renews its lease and carries on: whatever was taken over
 * meanwhile has a new version, so its late changes fail their compare-and-set.
 */
import { hostname } from "node:os";
import process from "node:process";
import { logger } from "../../observe/logger.ts";
import { run, type Sql } from "./pg-connection.ts";

/** A lease this long unless the master is told otherwise (--lease). */
export const DEFAULT_LEASE_SECONDS = 10;

/** SQL: whether the owner of the kvdb_keys row aliased k is a master whose lease holds. */
export const ownerAlive = (sql: Sql) => sql`EXISTS (SELECT 1 FROM kvdb_masters m WHERE m.id = k.owner AND m.expires > now())`;

export class MasterLease {
  /** This master, as owner of records and jobs. */
  readonly id = `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The last renewal failed: said once per outage, not every beat. */
  private failing = false;
  /**
   * Until when (performance.now()) the lease surely holds: the database counts its
   * expiry from when it got a renewal, which is after this process sent it.
   */
  private heldUntil = 0;
  /** Bumped when the lease lapsed before a renewal got through: whatever ran across the gap may have been taken over. */
  private term = 0;

  constructor(
    private readonly sql: Sql,
    private readonly seconds = DEFAULT_LEASE_SECONDS,
  ) {}

  private async renew(): Promise<void> {
    const { sql, id, seconds } = this;
    const sent = performance.now();
    await run(sql`INSERT INTO kvdb_masters (id, expires) VALUES (${id}, now() + make_interval(secs => ${seconds}))
                  ON CONFLICT (id) DO UPDATE SET expires = excluded.expires`);
    if (sent >= this.heldUntil) this.term++;
    this.heldUntil = sent + seconds * 1000;
  }

  /** See Index.leaseCheck: true while the lease holds, with a quarter of it to spare, in the term it was called in. */
  check(): () => boolean {
    const term = this.term;
    const margin = (this.seconds * 1000) / 4;
    return () => term === this.term && performance.now() < this.heldUntil - margin;
  }

  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => {
      this.renew().then(
        () => {
          if (this.failing) logger("master").info("index reachable again, lease renewed");
          this.failing = false;
        },
        (e) => {
          if (!this.failing) logger("master").warn(`cannot renew the lease: ${(e as Error).message}`);
          this.failing = true;
        },
      );
    }, (this.seconds * 1000) / 3);
    this.timer.unref?.();
  }

  /** Ends the lease: a master stopping cleanly owns nothing any more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await run(this.sql`DELETE FROM kvdb_masters WHERE id = ${this.id}`).catch(() => {});
  }
}
