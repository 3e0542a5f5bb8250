/**
 * The jobs over HTTP, so `kvdb rebalance`/`kvdb verify` and a second terminal can follow:
 *   POST /_kvdb/jobs/rebalance           start (or join the one running): 202 {job}
 *   POST /_kvdb/jobs/verify[?repair=1][&quick=1]
 *   GET  /_kvdb/jobs/<id>                progress: {done,total,rate,eta,state,ok,summary,counts,problems}
 *   GET  /_kvdb/jobs                     every job the index keeps (with LevelDB: of this master's life)
 * Any master answers for a job another master sharing the index runs.
 */
import { Hono } from "hono";
import { requireSignature } from "../../signing/auth.ts";
import { HttpError } from "../../http/errors.ts";
import type { JobRegistry } from "./registry.ts";
import { snapshot } from "./job.ts";

/** With a secret, jobs are the cluster operator's: requests must be signed (as the CLI does). */
export function jobsApp(jobs: JobRegistry, secret: string | undefined): Hono {
  const app = new Hono();
  if (secret) app.use(requireSignature([secret], true));
  app.post("/:kind", async (c) => {
    const kind = c.req.param("kind");
    if (kind !== "rebalance" && kind !== "verify") throw new HttpError(404, `no job named ${kind} (rebalance, verify)`);
    const yes = (name: string) => /^(1|true|yes)?$/i.test(c.req.query(name) ?? "no");
    const repair = yes("repair");
    const quick = kind === "verify" && yes("quick");
    const job = await jobs.start(kind, repair, quick);
    if (job.kind !== kind || job.repair !== repair || !!job.quick !== quick) return c.json({ error: `a ${job.kind} job is running`, ...snapshot(job) }, 409);
    return c.json(snapshot(job), 202);
  });
  app.get("/", async (c) => c.json((await jobs.all()).map(snapshot)));
  app.get("/:id", async (c) => {
    const job = await jobs.get(c.req.param("id"));
    if (!job) throw new HttpError(404, "no such job");
    return c.json(snapshot(job));
  });
  return app;
}
