/**
 * Unit tests of signed URLs (src/http/signing.ts): what a signature covers (method
 * class, path, every other query parameter, expiry), the exact form it has on the
 * wire, expiry with its clock-skew allowance, and tampering of every part.
 */
import { createHmac } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { newSecret, signUrl, SKEW_SECONDS, verifyRequest, type Verdict } from "../src/http/signing.ts";

const SECRET = "unit-test-secret-0123456789";
const NOW = 1_700_000_000_500; // ms; expires counts whole seconds
const BASE = "http://127.0.0.1:3001";

/** Verifies a signed URL as a volume would: the decoded path and the query it received. */
function verify(url: string, method = "GET", now = NOW, secret = SECRET): Verdict {
  const u = new URL(url);
  return verifyRequest(secret, method, decodeURIComponent(u.pathname), u.searchParams, now);
}

/** `url` with one query parameter set to `value` (or removed when undefined). */
function withParam(url: string, name: string, value?: string): string {
  const u = new URL(url);
  if (value === undefined) u.searchParams.delete(name);
  else u.searchParams.set(name, value);
  return u.href;
}

test("the exact form: expires in whole seconds, an HMAC-SHA256 (base64url) of method, path and sorted params", () => {
  const url = signUrl(SECRET, "GET", `${BASE}/a%20b?z=2&a=1`, 60, NOW);
  const expires = 1_700_000_060;
  const text = `GET\n/a b\na=1&expires=${expires}&z=2`;
  const signature = createHmac("sha256", SECRET).update(text).digest("base64url");
  assert.is(url, `${BASE}/a%20b?z=2&a=1&expires=${expires}&signature=${signature}`);
});

test("a signed URL is valid for its method and path", () => {
  assert.is(verify(signUrl(SECRET, "GET", `${BASE}/k`, 60, NOW)), "valid");
  assert.is(verify(signUrl(SECRET, "PUT", `${BASE}/k`, 60, NOW), "PUT"), "valid");
  assert.is(verify(signUrl(SECRET, "DELETE", `${BASE}/dir/k`, 60, NOW), "DELETE"), "valid");
});

test("HEAD and GET share one signature; other methods do not", () => {
  const get = signUrl(SECRET, "GET", `${BASE}/k`, 60, NOW);
  const head = signUrl(SECRET, "HEAD", `${BASE}/k`, 60, NOW);
  assert.is(head, get, "the same URL either way");
  assert.is(verify(get, "HEAD"), "valid");
  assert.is(verify(head, "GET"), "valid");
  for (const m of ["PUT", "POST", "DELETE", "UNLINK"]) assert.is(verify(get, m), "invalid", m);
  assert.is(verify(signUrl(SECRET, "PUT", `${BASE}/k`, 60, NOW), "GET"), "invalid");
});

test("expiry: good until expires + SKEW_SECONDS, expired one millisecond later", () => {
  assert.is(SKEW_SECONDS, 30);
  const url = signUrl(SECRET, "GET", `${BASE}/k`, 60, NOW);
  const expires = Number(new URL(url).searchParams.get("expires"));
  assert.is(expires, 1_700_000_060);
  assert.is(verify(url, "GET", expires * 1000), "valid");
  assert.is(verify(url, "GET", (expires + SKEW_SECONDS) * 1000), "valid");
  assert.is(verify(url, "GET", (expires + SKEW_SECONDS) * 1000 + 1), "expired");
  assert.is(verify(url, "GET", (expires + 3600) * 1000), "expired");
  // A verifier whose clock is behind the signer's accepts it.
  assert.is(verify(url, "GET", NOW - 10_000), "valid");
});

test("an expired URL with a forged later expiry is invalid, not valid", () => {
  const url = signUrl(SECRET, "GET", `${BASE}/k`, 60, NOW);
  const later = withParam(url, "expires", String(1_700_000_060 + 3600));
  assert.is(verify(later, "GET", (1_700_000_060 + SKEW_SECONDS + 1) * 1000), "invalid");
});

test("tampering with the path, the signature, the secret or any parameter: invalid", () => {
  const url = signUrl(SECRET, "GET", `${BASE}/dir/k?from=127.0.0.1%3A3002`, 60, NOW);
  assert.is(verify(url), "valid");
  assert.is(verify(url.replace("/dir/k", "/dir/K")), "invalid", "another path");
  assert.is(verify(url.replace("/dir/k", "/dir/k2")), "invalid", "a longer path");
  assert.is(verify(url, "GET", NOW, "another-secret-0123456789"), "invalid", "another secret");
  const signature = new URL(url).searchParams.get("signature")!;
  const flipped = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
  assert.is(verify(withParam(url, "signature", flipped)), "invalid", "one character of the signature");
  assert.is(verify(withParam(url, "signature", signature.slice(1))), "invalid", "a shorter signature");
  assert.is(verify(withParam(url, "signature", "")), "invalid", "an empty signature");
  assert.is(verify(withParam(url, "from", "127.0.0.1:3003")), "invalid", "another value of a signed parameter");
  assert.is(verify(withParam(url, "from")), "invalid", "a signed parameter removed");
  assert.is(verify(withParam(url, "repair", "1")), "invalid", "a parameter added");
  assert.is(verify(withParam(url, "expires", "abc")), "invalid", "an expiry that is not a number");
  assert.is(verify(withParam(url, "expires")), "invalid", "no expiry");
});

test("other query parameters are signed in any order", () => {
  const url = signUrl(SECRET, "POST", `${BASE}/k?b=2&a=1&from=h%3A1`, 60, NOW);
  const u = new URL(url);
  const reordered = new URLSearchParams([...u.searchParams].reverse());
  assert.is(verifyRequest(SECRET, "POST", "/k", reordered, NOW), "valid");
});

test("the signature covers the decoded path: a path encoded differently is the same key", () => {
  const url = signUrl(SECRET, "GET", `${BASE}/%C3%BC/a%20b`, 60, NOW);
  const params = new URL(url).searchParams;
  assert.is(verifyRequest(SECRET, "GET", "/ü/a b", params, NOW), "valid");
  assert.is(verifyRequest(SECRET, "GET", "/%C3%BC/a%20b", params, NOW), "invalid", "the raw path is not what was signed");
});

test("no signature at all: unsigned (a volume without --private serves it)", () => {
  assert.is(verifyRequest(SECRET, "GET", "/k", new URLSearchParams(), NOW), "unsigned");
  assert.is(verifyRequest(SECRET, "GET", "/k", new URLSearchParams("expires=1700000060"), NOW), "unsigned");
});

test("newSecret: 32 random bytes, base64url, never the same twice", () => {
  const a = newSecret();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.is.not(newSecret(), a);
});

test.run();
