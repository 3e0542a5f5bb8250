/**
 * Unit tests of the curl API's credential check pieces that run on every request
 * (src/auth/access.ts credentialsOf, src/auth/keys.ts sameSecret): what each
 * Authorization header gives, and the comparison of secrets, against the forms they
 * replaced (split into an array; Buffers through timingSafeEqual).
 */
import { timingSafeEqual } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { credentialsOf } from "../src/auth/access.ts";
import { newClientKey, sameSecret } from "../src/auth/keys.ts";

/** credentialsOf as it was written before (split), the reference. */
function splitCredentials(header: string | undefined): { id: string; secret: string } | undefined | "malformed" {
  if (header === undefined || header === "") return undefined;
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  let pair: string[];
  if (scheme === "bearer") pair = value.split(".");
  else if (scheme === "basic") pair = Buffer.from(value, "base64").toString("utf8").split(":");
  else return "malformed";
  return pair.length === 2 && pair[0] && pair[1] ? { id: pair[0], secret: pair[1] } : "malformed";
}

const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;

test("credentialsOf: each header's id and secret, or malformed, as splitting gave them", () => {
  const headers = [undefined, "", "Bearer", "Bearer ", "Bearer a.b", "bearer a.b", "BEARER  a.b ", "Bearer a.b.c", "Bearer .b", "Bearer a.", "Bearer .", "Bearer ab", "Bearer a..b", "Bearer KVDB0123456789ABCDEF.s3cr3t-_x"];
  const more = [basic("a:b"), basic("a:b:c"), basic(":b"), basic("a:"), basic("ab"), basic(":"), basic("é:ü"), "Basic !!!", "basic", "Token abc", "AWS4-HMAC-SHA256", " Bearer a.b"];
  for (const h of [...headers, ...more]) assert.equal(credentialsOf(h), splitCredentials(h), String(h));
  assert.equal(credentialsOf("Bearer a.b"), { id: "a", secret: "b" });
  assert.equal(credentialsOf(basic("id:se.cret")), { id: "id", secret: "se.cret" });
});

test("sameSecret: equal secrets only, whatever the length or where they differ", () => {
  const { key } = newClientKey("t", []);
  const s = key.secret;
  assert.ok(sameSecret(s, s.slice()));
  assert.ok(sameSecret("", ""));
  for (const other of [s.slice(1), `${s}x`, `x${s.slice(1)}`, `${s.slice(0, -1)}x`, `${s.slice(0, 20)}x${s.slice(21)}`, "", "é".repeat(s.length)]) {
    assert.not.ok(sameSecret(s, other), other);
    assert.not.ok(sameSecret(other, s), other);
  }
  // As timingSafeEqual on their UTF-8 bytes answers, for text of one alphabet or another.
  const pairs = [["abc", "abc"], ["abc", "abd"], ["é", "é"], ["é", "e"], ["ü", "ü"], ["€x", "€y"]];
  for (const [a, b] of pairs) {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    assert.is(sameSecret(a, b), x.length === y.length && timingSafeEqual(x, y), `${a} ${b}`);
  }
});

test.run();
