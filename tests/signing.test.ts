/**
 * Unit tests of signed URLs (src/signing/signing.ts): what a signature covers (method
 * class, path, every other query parameter, expiry), the exact form it has on the
 * wire, expiry with its clock-skew allowance, and tampering of every part; and the
 * plain-JavaScript HMAC-SHA256 under it (src/signing/hmac-sha256.ts) against node:crypto.
 */
import { createHmac } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HmacSha256 } from "../src/signing/hmac-sha256.ts";
import { newSecret, signPath, signUrl, SKEW_SECONDS, verifyRequest, type Verdict } from "../src/signing/signing.ts";
import { keyPath } from "../src/keys/keys.ts";

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

test("HmacSha256 agrees with node:crypto for keys of 0–200 bytes and messages of 0–300 units, multi-byte UTF-8 among them", () => {
  for (const keyLength of [0, 1, 20, 43, 55, 56, 63, 64, 65, 131, 200]) {
    const key = Array.from({ length: keyLength }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join("");
    const mac = new HmacSha256(key);
    for (let n = 0; n <= 300; n++) {
      // Lengths around each 64-byte block edge, in bytes as well as in UTF-16 units.
      const message = "é€😀".repeat(n % 5) + "k".repeat(n);
      const want = createHmac("sha256", key).update(message).digest();
      assert.is(Buffer.from(mac.digest(message)).toString("hex"), want.toString("hex"), `key ${keyLength}, message ${n}`);
      assert.is(mac.base64url(message), want.toString("base64url"), `key ${keyLength}, message ${n}, base64url`);
    }
  }
});

test("HmacSha256: RFC 4231's test cases 1, 2, 6 and 7", () => {
  const hex = (d: Uint8Array) => Buffer.from(d).toString("hex");
  const aa = (n: number) => new Uint8Array(n).fill(0xaa);
  assert.is(hex(new HmacSha256(new Uint8Array(20).fill(0x0b)).digest("Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  assert.is(hex(new HmacSha256("Jefe").digest("what do ya want for nothing?")), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert.is(
    hex(new HmacSha256(aa(131)).digest("Test Using Larger Than Block-Size Key - Hash Key First")),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  );
  assert.is(
    hex(
      new HmacSha256(aa(131)).digest(
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      ),
    ),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  );
});

test("signPath gives exactly the URL signUrl gives, for plain and encoded keys, with and without a query", () => {
  for (const key of ["/k", "/dir/key-1", "/a b/ü", "/x?y#z%", "/_kvdb/blobs/ab"]) {
    const base = `${BASE}${keyPath(key)}`;
    for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
      assert.is(signPath(SECRET, method, base, key, undefined, 60, NOW), signUrl(SECRET, method, base, 60, NOW), `${method} ${key}`);
      const query = { "response-content-type": "text/plain; charset=utf-8", from: "127.0.0.1:3002" };
      const withQuery = `${base}?${new URLSearchParams(query)}`;
      assert.is(signPath(SECRET, method, base, key, query, 60, NOW), signUrl(SECRET, method, withQuery, 60, NOW), `${method} ${key}, query`);
    }
  }
  assert.is(verify(signPath(SECRET, "PUT", `${BASE}/a%20b`, "/a b", undefined, 60, NOW), "PUT"), "valid");
});

test.run();
