/**
 * Long jobs in PostgreSQL: one row each, its progress saved by the master running it,
 * so any master can report it (the latest LISTED, and the latest of each kind). A
 * unique index on the running state lets one job run at a time across every master
 * (pg-schema.ts); a running job whose master's lease ran out is failed, so running the
 * job again can start it elsewhere.
 */
import { KvdbError } from "../../errors.ts";
import type { JobRecord, Jobs } from "./index.ts";
import { run, type Sql } from "./pg-connection.ts";
import { ownerAlive } from "./pg-lease.ts";

/** How many past jobs are listed. */
const LISTED = 100;

export class PgJobs implements Jobs {
  constructor(
    private readonly sql: Sql,
    private readonly owner: string,
  ) {}

  async start(job: JobRecord): Promise<JobRecord> {
    const { sql } = this;
    // A few tries: the running job may finish between the insert and the look-up.
    for (let attempt = 0; attempt < 3; attempt++) {
      await run(sql`
        UPDATE kvdb_jobs k SET state = 'failed',
          body = body || jsonb_build_object('state', 'failed', 'summary', (body->>'kind') || ' failed: its master stopped')
        WHERE state = 'running' AND NOT ${ownerAlive(sql)}`);
      const [mine] = await run(sql`
        INSERT INTO kvdb_jobs (id, state, owner, body) VALUES (${job.id}, 'running', ${this.owner}, ${sql.json(job as never)})
        ON CONFLICT DO NOTHING RETURNING id`);
      if (mine) return job;
      const [running] = await run(sql<{ body: JobRecord }[]>`SELECT body FROM kvdb_jobs WHERE state = 'running'`);
      if (running) return running.body;
    }
    throw new KvdbError("unavailable", "index unavailable: could neither start a job nor find the one running");
  }

  async save(job: JobRecord): Promise<void> {
    await run(this.sql`UPDATE kvdb_jobs SET state = ${job.state}, body = ${this.sql.json(job as never)} WHERE id = ${job.id} AND owner = ${this.owner}`);
  }

  async all(): Promise<JobRecord[]> {
    const { sql } = this;
    // The latest LISTED, and the latest of each kind however long ago: S3's hourly
    // lifecycle runs (jobs/periodic.ts) must not push the last verify out of the list.
    const rows = await run(sql<{ body: JobRecord; stopped: boolean }[]>`
      SELECT body, (state = 'running' AND NOT ${ownerAlive(sql)}) AS stopped FROM kvdb_jobs k
      WHERE id IN (SELECT id FROM kvdb_jobs ORDER BY started DESC LIMIT ${LISTED})
         OR id IN (SELECT DISTINCT ON (body->>'kind') id FROM kvdb_jobs ORDER BY body->>'kind', started DESC)
      ORDER BY started DESC`);
    return rows.reverse().map(({ body, stopped }) => (stopped ? { ...body, state: "failed", summary: `${body.kind} failed: its master stopped` } : body));
  }
}
