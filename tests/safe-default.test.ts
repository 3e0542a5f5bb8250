/**
 * Safe by default (issue 26, item 1): `kvdb server` listens on loopback unless --host
 * says otherwise, and a master listening beyond loopback without client authentication
 * refuses to start with one line naming the ways out (src/auth/exposure.ts).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startCluster } from "../harness/cluster.ts";
import { HOST, runKvdb, spawnKvdb } from "../harness/kvdb.ts";
import { REPO, tempDir } from "../harness/paths.ts";

const dir = tempDir("kvdb-safe-default");
const DEAD_VOLUME = `${HOST}:1`; // a master starts with its volumes down

test.after(() => rmSync(dir, { recursive: true, force: true }));

test("a master on 0.0.0.0 (the default) without client authentication refuses to start: one line, exit 1, the index untouched after", async () => {
  const r = await runKvdb(["master", "--volumes", DEAD_VOLUME, "--db", join(dir, "open"), "--port", "0"], {}, 20_000);
  assert.is(r.code, 1, r.stderr);
  assert.is(
    r.stderr,
    "kvdb: refusing to serve the curl API on 0.0.0.0 without client authentication: anyone who can reach it could write and delete. " +
      "Create a key (kvdb keys create --bootstrap --db INDEX NAME), listen on 127.0.0.1 (--host), or give --allow-anonymous (KVDB_ALLOW_ANONYMOUS=1) on a trusted network (docs/SECURITY.md)\n",
  );
  assert.is(r.stdout, "");
  // The LevelDB lock was released: the same index serves once the operator chose.
  const ok = await spawnKvdb(["master", "--volumes", DEAD_VOLUME, "--db", join(dir, "open"), "--port", "0", "--allow-anonymous"]);
  try {
    assert.match(ok.output(), /^kvdb master url=http:\/\/localhost:\d+ /m);
    assert.is((await fetch(`${ok.url}/_kvdb/volumes`)).status, 200);
  } finally {
    assert.is(await ok.stop("SIGTERM"), 0, ok.output());
  }
});

test("KVDB_ALLOW_ANONYMOUS=1 is the flag's environment variable; a master on a loopback address needs neither", async () => {
  const env = await spawnKvdb(["master", "--volumes", DEAD_VOLUME, "--db", join(dir, "env"), "--port", "0"], { KVDB_ALLOW_ANONYMOUS: "1" });
  const loop = await spawnKvdb(["master", "--volumes", DEAD_VOLUME, "--db", join(dir, "loop"), "--port", "0", "--host", HOST]);
  for (const m of [env, loop]) {
    assert.is((await fetch(`${m.url}/_kvdb/volumes`)).status, 200); // serving, its SIGTERM handler set
    assert.is(await m.stop("SIGTERM"), 0, m.output());
  }
});

test("--allow-anonymous takes all or read (or nothing): anything else is a usage error, exit 2", async () => {
  const r = await runKvdb(["master", "--volumes", DEAD_VOLUME, "--db", join(dir, "bad"), "--port", "0", "--allow-anonymous", "everyone"], {}, 20_000);
  assert.is(r.code, 2);
  assert.is(r.stderr, 'kvdb: allow-anonymous must be all, read, none, or given bare for all (got "everyone")\n');
});

test("kvdb server listens on 127.0.0.1 by default (its S3 port too), and a fresh data dir gets an admin key and the S3 pair in a 0600 file the start line names, no secret printed; on loopback this machine's clients need no key", async () => {
  const data = join(dir, "server");
  const file = join(data, "credentials");
  const s = await spawnKvdb(["server", data, "--port", "0"]);
  let fields: Record<string, string>;
  try {
    assert.match(s.output(), new RegExp(`^kvdb master url=http://127\\.0\\.0\\.1:\\d+ .*s3=http://127\\.0\\.0\\.1:\\d+ s3-access-key=KVDB\\w+ credentials=${file} `, "m"));
    assert.is(statSync(file).mode & 0o777, 0o600);
    fields = Object.fromEntries([...readFileSync(file, "utf8").matchAll(/^([\w-]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
    assert.is(fields.token, `${fields.id}.${fields.secret}`);
    assert.is(fields.grants, "admin");
    assert.match(s.output(), `s3-access-key=${fields["s3-access-key"]} `);
    for (const secret of [fields.secret, fields["s3-secret-key"]]) assert.not.ok(s.output().includes(secret), "no secret on the start line or in the log");
    assert.is((await fetch(`${s.url}/k`, { method: "PUT", body: "v" })).status, 201, "loopback: --allow-anonymous all by default");
    assert.is((await fetch(`${s.url}/_kvdb/keys`, { headers: { authorization: `Bearer ${fields.token}` } })).status, 200);
    const wrong = await fetch(`${s.url}/k`, { headers: { authorization: `Bearer ${fields.id}.${fields.secret.slice(0, -1)}x` } });
    assert.is(wrong.status, 401);
    assert.not.ok(s.output().includes(fields.secret.slice(0, -1)), "a refusal logs the key id, never the secret tried");
    assert.match(s.output(), `key=${fields.id}`);
  } finally {
    assert.is(await s.stop("SIGTERM"), 0, s.output());
  }
  // Beyond loopback the same data dir serves with authentication on (it holds a key); the S3 pair is the file's still.
  const open = await spawnKvdb(["server", data, "--port", "0", "--host", "0.0.0.0"]);
  try {
    assert.match(open.output(), `s3-access-key=${fields["s3-access-key"]} credentials=${file} `);
    assert.is((await fetch(`${open.url}/k2`, { method: "PUT", body: "v" })).status, 401);
    assert.is((await fetch(`${open.url}/k2`, { method: "PUT", body: "v", headers: { authorization: `Bearer ${fields.token}` } })).status, 201);
  } finally {
    assert.is(await open.stop("SIGTERM"), 0, open.output());
  }
  const none = await spawnKvdb(["server", data, "--port", "0", "--allow-anonymous", "none"]);
  try {
    assert.is((await fetch(`${none.url}/k`)).status, 401, "--allow-anonymous none: keys on loopback too");
  } finally {
    assert.is(await none.stop("SIGTERM"), 0, none.output());
  }
});

test("upgrading: an index that served before the safe default (it holds keys, and no mark) keeps starting beyond loopback, with a warning line, until a key is made; one made since refuses", async () => {
  const old = join(dir, "old");
  cpSync(join(REPO, "tests/fixtures/level-json-index/db"), old, { recursive: true }); // written by an old release
  const m = await spawnKvdb(["master", "--volumes", DEAD_VOLUME, "--db", old, "--port", "0"]);
  try {
    assert.match(
      m.output(),
      "serving the curl API on 0.0.0.0 without client authentication, as before: this index predates the safe default. " +
        "Create a key (kvdb keys create NAME), or give --allow-anonymous to say so (docs/PRODUCTION.md, Upgrading)",
    );
    assert.is((await fetch(`${m.url}/?list`)).status, 200, "anonymous, as before");
    const made = await runKvdb(["keys", "create", "ops", "--master", m.url]);
    assert.is(made.code, 0, made.stderr);
    assert.is((await fetch(`${m.url}/?list`)).status, 401, "a key: authentication on");
  } finally {
    assert.is(await m.stop("SIGTERM"), 0, m.output());
  }
  // An index made since: it holds a key too, but its master never served it without the rule.
  const c = await startCluster({ dir: join(dir, "new") });
  assert.is((await fetch(`${c.url}/k`, { method: "PUT", body: "v" })).status, 201);
  await c.close();
  const r = await runKvdb(["master", "--volumes", DEAD_VOLUME, "--db", c.db, "--port", "0"], {}, 20_000);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /^kvdb: refusing to serve the curl API on 0\.0\.0\.0 without client authentication/);
});

test.run();
