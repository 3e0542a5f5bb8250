/**
 * --secret: volumes take writes, deletes and internal calls only when signed; the
 * master's redirects are signed, expiring, good for GET/HEAD of one key; --private
 * volumes refuse unsigned reads; a few seconds of clock skew never break a URL.
 */
import { rmSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { keyPath } from "../src/keys/keys.ts";
import { signUrl, SKEW_SECONDS } from "../src/signing/signing.ts";
import { BATCH_PATH, encodeBatch } from "../src/wire/batch-wire.ts";
import { spawnKvdb } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";
import { locate } from "./http.ts";
import { type Cluster, startCluster } from "../harness/cluster.ts";

const SECRET = "test-secret-0123456789abcdef";

async function status(url: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(url, { redirect: "manual", ...init });
  await res.arrayBuffer();
  return res.status;
}

async function located(c: Cluster, key: string, method = "GET"): Promise<URL> {
  const { status, location } = await locate(c.url, key, method);
  assert.is(status, 302);
  return new URL(location);
}

let c: Cluster;

test.before(async () => {
  c = await startCluster({ secret: SECRET, urlTtl: 60 });
  assert.is(await status(`${c.url}/s/a`, { method: "PUT", body: "alpha" }), 201);
  assert.is(await status(`${c.url}/s/b`, { method: "PUT", body: "bravo" }), 201);
});
test.after(() => c.close());

test("the whole API works through the master with a secret", async () => {
  const loc = await located(c, "/s/a");
  const res = await fetch(loc);
  assert.is(res.status, 200);
  assert.is(await res.text(), "alpha");
  assert.is(await status(`${c.url}/s/tmp`, { method: "PUT", body: "x" }), 201);
  assert.is(await status(`${c.url}/s/tmp`, { method: "DELETE" }), 204);
  assert.is(await status(`${c.url}/s/tmp`), 404);
});

test("redirects are signed and expire after --url-ttl", async () => {
  const loc = await located(c, "/s/a");
  const expires = Number(loc.searchParams.get("expires"));
  const now = Date.now() / 1000;
  assert.ok(loc.searchParams.get("signature"), "signature present");
  assert.ok(expires > now + 55 && expires <= now + 61, `expires ${expires - now} s from now`);
});

test("unsigned writes, deletes and internal endpoints (batches too) are refused with 403; a signed batch carries only the operations it was signed for", async () => {
  const v = c.volumes[0].url;
  assert.is(await status(`${v}/s/evil`, { method: "PUT", body: "evil" }), 403);
  assert.is(await status(`${v}/s/a`, { method: "DELETE" }), 403);
  assert.is(await status(`${v}/_kvdb/health`), 403);
  assert.is(await status(`${v}/_kvdb/list`), 403);
  const evil = encodeBatch([{ put: "/s/evil", size: 4 }, { del: "/s/a" }], [Buffer.from("evil")]);
  assert.is(await status(`${v}${BATCH_PATH}?head=${evil.digest}`, { method: "POST", body: evil.body }), 403);
  // A batch URL signed for one list of operations does not carry another.
  const honest = encodeBatch([{ del: "/s/none" }], []);
  const signed = signUrl(SECRET, "POST", `${v}${BATCH_PATH}?head=${honest.digest}`, 60);
  const swapped = await fetch(signed, { method: "POST", body: evil.body });
  assert.is(swapped.status, 400);
  assert.is(await swapped.text(), "bad batch: the head line does not match the URL's head digest\n");
  const resigned = new URL(signed);
  resigned.searchParams.set("head", evil.digest);
  assert.is(await status(resigned.href, { method: "POST", body: evil.body }), 403, "the digest is part of the signature");
  assert.is(await status(signed, { method: "POST", body: honest.body }), 200);
  // Nothing changed: the value is still there and readable.
  const res = await fetch(await located(c, "/s/a"));
  assert.is(await res.text(), "alpha");
});

test("a tampered, misplaced, wrong-method or expired signature → 403", async () => {
  const loc = await located(c, "/s/a");
  const tampered = new URL(loc);
  const sig = tampered.searchParams.get("signature")!;
  tampered.searchParams.set("signature", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
  assert.is(await status(tampered.href), 403);

  const longer = new URL(loc);
  longer.searchParams.set("expires", String(Number(loc.searchParams.get("expires")) + 3600));
  assert.is(await status(longer.href), 403, "extending the expiry breaks the signature");

  const otherKey = new URL(loc);
  otherKey.pathname = "/s/b";
  assert.is(await status(otherKey.href), 403, "a URL signed for /s/a does not read /s/b");

  assert.is(await status(loc.href, { method: "DELETE" }), 403, "a read URL cannot delete");
  assert.is(await status(loc.href, { method: "PUT", body: "x" }), 403, "a read URL cannot write");
  assert.is(await status(loc.href, { method: "HEAD" }), 200, "HEAD goes with GET");

  const base = `${c.volumes[0].url}${keyPath("/s/a")}`;
  const expired = signUrl(SECRET, "GET", base, 60, Date.now() - (60 + SKEW_SECONDS + 10) * 1000);
  assert.is(await status(expired), 403);
  const wrongSecret = signUrl("another-secret-0123456789", "GET", base, 60);
  assert.is(await status(wrongSecret), 403);
});

test("a few seconds of clock skew do not break a signed URL", async () => {
  // Signed by a clock 65 s behind (or a URL used 5 s after it expired by the volume's clock).
  const loc = await located(c, "/s/a");
  const url = `${loc.origin}${loc.pathname}`;
  assert.is(await status(signUrl(SECRET, "GET", url, 60, Date.now() - 65_000)), 200);
  // A clock 10 s ahead: the URL simply lasts 10 s longer.
  assert.is(await status(signUrl(SECRET, "GET", url, 60, Date.now() + 10_000)), 200);
});

test("without --private, unsigned reads of values are allowed; with it, refused", async () => {
  const loc = await located(c, "/s/b");
  assert.is(await status(`${loc.origin}${loc.pathname}`), 200);
  const p = await startCluster({ secret: SECRET, private: true });
  try {
    assert.is(await status(`${p.url}/p`, { method: "PUT", body: "private" }), 201);
    const ploc = await located(p, "/p");
    assert.is(await status(`${ploc.origin}${ploc.pathname}`), 403);
    const res = await fetch(ploc);
    assert.is(res.status, 200);
    assert.is(await res.text(), "private");
  } finally {
    await p.close();
  }
});

test("no secret: a warning at start; kvdb server makes its own secret", async () => {
  const dir = tempDir();
  const v = await spawnKvdb(["volume", `${dir}/v`, "--port", "0", "--host", "127.0.0.1"]);
  try {
    assert.match(v.output(), /warning: no --secret/);
    assert.is(await status(`${v.url}/open`, { method: "PUT", body: "x" }), 201);
  } finally {
    await v.stop("SIGTERM");
  }
  const s = await spawnKvdb(["server", `${dir}/s`, "--port", "0", "--host", "127.0.0.1"]);
  try {
    assert.not.match(s.output(), /warning: no --secret/);
    assert.is(await status(`${s.url}/k`, { method: "PUT", body: "v" }), 201);
    const volume = new URL((await fetch(`${s.url}/k`, { redirect: "manual" })).headers.get("location")!);
    assert.is(await status(`${volume.origin}/evil`, { method: "PUT", body: "x" }), 403);
  } finally {
    await s.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rotation: a volume with --previous-secret accepts both secrets, and no other", async () => {
  const dir = tempDir();
  const OLD = "old-secret-0123456789abcdef";
  const NEW = "new-secret-0123456789abcdef";
  const v = await spawnKvdb(["volume", `${dir}/v`, "--port", "0", "--host", "127.0.0.1", "--secret", NEW, "--previous-secret", OLD]);
  try {
    const put = (secret: string, key: string) => status(signUrl(secret, "PUT", `${v.url}${key}`, 60), { method: "PUT", body: "x" });
    assert.is(await put(OLD, "/signed-by-old"), 201);
    assert.is(await put(NEW, "/signed-by-new"), 201);
    assert.is(await put("some-other-secret-0123456789", "/signed-by-other"), 403);
  } finally {
    await v.stop("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad secret flags: too short, or --private without a secret → exit 2", async () => {
  for (const args of [
    ["volume", "/tmp/x", "--secret", "short"],
    ["volume", "/tmp/x", "--private"],
  ]) {
    const err = await spawnKvdb(args).then(
      (ch) => ch.stop().then(() => "started"),
      (e: Error) => e.message,
    );
    assert.match(err, /exited with 2/);
  }
});

test.run();
