/**
 * Key management through a master (`kvdb keys list|create|grant|revoke|delete`), under
 * /_kvdb/keys, for admin keys only (curl-guard.ts asks admin for the whole prefix). A
 * secret leaves the master once, in create's answer; list shows ids, names and grants.
 *
 *   GET    /_kvdb/keys                 → [{ id, name, grants, created }]
 *   POST   /_kvdb/keys   {name, grants} → 201 { id, name, grants, secret, token }
 *   POST   /_kvdb/keys/ID/grant  {grant}, POST /_kvdb/keys/ID/revoke {grant} → { id, name, grants }
 *   DELETE /_kvdb/keys/ID              → 204
 */
import { Hono, type Context } from "hono";
import { fail } from "../http/errors.ts";
import { credentialsOf, type Access } from "./access.ts";
import { allows, grantText, newClientKey, parseGrant, tokenOf, type ClientKey, type Grant } from "./keys.ts";

const view = (id: string, k: ClientKey) => ({ id, name: k.name, grants: k.grants.map(grantText), created: k.created });

async function body(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const b = await c.req.json();
    return b && typeof b === "object" ? (b as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function grantOf(v: unknown): Grant | undefined {
  return typeof v === "string" ? parseGrant(v) : undefined;
}

/**
 * Once a key exists, curl-guard.ts lets in only an admin key's request or, under
 * --allow-anonymous (all), one without credentials, which key management still refuses.
 * Before (authentication off: whoever reaches the master may do everything anyway), the
 * first key may be made here, an admin one, which turns authentication on.
 */
export function keyRoutes(access: Access): Hono {
  const { store } = access;
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (!(await access.isOn())) return c.req.method === "POST" ? next() : fail(c, 403, "no key exists yet: create the first, an admin key, with kvdb keys create NAME");
    return credentialsOf(c.req.header("authorization")) ? next() : fail(c, 401, "key management needs an admin key, even with --allow-anonymous");
  });
  app.get("/", async (c) => {
    const keys = [];
    for await (const [id, k] of store.list()) keys.push(view(id, k));
    return c.json(keys);
  });
  app.post("/", async (c) => {
    const b = await body(c);
    const grants = Array.isArray(b?.grants) ? b.grants.map(grantOf) : [];
    if (typeof b?.name !== "string" || !b.name || !grants.length || grants.some((g) => !g)) {
      return fail(c, 400, 'give {"name": "...", "grants": ["read|write|admin[:prefix]", ...]}');
    }
    const first = !(await access.isOn());
    if (first && !allows(grants as Grant[], "admin")) return fail(c, 400, "the first key must be an admin key (--grant admin): it manages the others");
    const { id, key } = newClientKey(b.name, grants as Grant[]);
    await store.put(id, key);
    if (first) access.turnOn();
    return c.json({ ...view(id, key), secret: key.secret, token: tokenOf(id, key.secret) }, 201);
  });
  app.post("/:id/:verb{grant|revoke}", async (c) => {
    const { id, verb } = c.req.param();
    const key = await store.get(id);
    if (!key) return fail(c, 404, `no key ${id}`);
    const grant = grantOf((await body(c))?.grant);
    if (!grant) return fail(c, 400, 'give {"grant": "read|write|admin[:prefix]"}');
    const others = key.grants.filter((g) => grantText(g) !== grantText(grant));
    const changed = { ...key, grants: verb === "grant" ? [...others, grant] : others };
    await store.put(id, changed);
    return c.json(view(id, changed));
  });
  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await store.get(id))) return fail(c, 404, `no key ${id}`);
    await store.delete(id);
    return c.body(null, 204);
  });
  return app;
}
