/**
 * Unit tests of keys (src/keys/keys.ts): which request paths are keys and why the
 * others are refused, the URL path of a key, and the file a key is stored in.
 */
import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { blobPath, decodePath, keyPath, MAX_KEY_BYTES, parseKey, RESERVED_PREFIX } from "../src/keys/keys.ts";

// ---------------------------------------------------------------- parseKey

test("decodePath: decodeURIComponent's answer, or its error, for paths with escapes and without", () => {
  const paths = ["/a/b", "/", "", "/a%20b", "/%E2%82%AC", "/%zz", "/%", "/a%2", "/%C3", "/%2e%2E/x", "/plain-._~!*'()", "/ü/é", "/\ud800", "/a+b"];
  for (const p of paths) {
    let want: string | Error;
    try {
      want = decodeURIComponent(p);
    } catch (e) {
      want = e as Error;
    }
    if (want instanceof Error) assert.throws(() => decodePath(p), (e: Error) => e.name === (want as Error).name, p);
    else assert.is(decodePath(p), want, p);
  }
});

test("parseKey: valid keys, percent-decoded", () => {
  const ok: [string, string][] = [
    ["/a", "/a"],
    ["/a/b/c.txt", "/a/b/c.txt"],
    ["/a%20b", "/a b"],
    ["/a b", "/a b"],
    ["/%C3%BC", "/ü"],
    ["/%c3%bc", "/ü"],
    ["/ü", "/ü"],
    ["/%F0%9F%98%80", "/😀"],
    ["/dir/", "/dir/"],
    ["/.hidden", "/.hidden"],
    ["/...", "/..."],
    ["/a..b", "/a..b"],
    ["/a/.b/..c", "/a/.b/..c"],
    ["/%2541", "/%41"],
    ["/a%2Fb", "/a/b"],
    ["/a+b", "/a+b"],
    ["/_kvdb", "/_kvdb"],
    ["/_kvdbx/y", "/_kvdbx/y"],
    ["/x/_kvdb/y", "/x/_kvdb/y"],
    ["/a%0Ab", "/a\nb"],
  ];
  for (const [raw, key] of ok) assert.equal(parseKey(raw), { key }, raw);
});

test("parseKey: refused keys say why", () => {
  const bad: [string, RegExp][] = [
    ["", /start with \//],
    ["a", /start with \//],
    ["http://h/a", /start with \//],
    ["/", /empty key/],
    ["//", /\/\//],
    ["//a", /\/\//],
    ["/a//b", /\/\//],
    ["/a//", /\/\//],
    ["/a%2F%2Fb", /\/\//],
    ["/.", /\.\./],
    ["/..", /\.\./],
    ["/a/..", /\.\./],
    ["/a/../b", /\.\./],
    ["/a/./b", /\.\./],
    ["/%2e%2e", /\.\./],
    ["/%2E%2e/x", /\.\./],
    ["/a%2F..%2Fb", /\.\./],
    ["/a%00", /NUL/],
    ["/\0", /NUL/],
    ["/%zz", /percent-encoding/],
    ["/%", /percent-encoding/],
    ["/%2", /percent-encoding/],
    ["/%c3%28", /UTF-8/],
    ["/%ff", /UTF-8/],
    ["/%c0%af", /UTF-8/],
    ["/%ed%a0%80", /UTF-8/],
    ["/_kvdb/", /reserved/],
    ["/_kvdb/health", /reserved/],
    ["/%5Fkvdb/x", /reserved/],
  ];
  for (const [raw, why] of bad) {
    const r = parseKey(raw);
    assert.ok("error" in r, `${JSON.stringify(raw)} must be refused, got ${JSON.stringify(r)}`);
    if ("error" in r) {
      assert.match(r.error, why, raw);
      assert.not.match(r.error, /\n/);
    }
  }
  assert.is(RESERVED_PREFIX, "/_kvdb/");
});

test("parseKey: the 1024-byte limit counts UTF-8 bytes, not characters", () => {
  assert.is(MAX_KEY_BYTES, 1024);
  const ascii = "/" + "a".repeat(1023);
  assert.equal(parseKey(ascii), { key: ascii });
  assert.ok("error" in parseKey(ascii + "a"));
  const two = "/" + "é".repeat(511) + "a"; // 1 + 1022 + 1
  assert.equal(parseKey(keyPath(two)), { key: two });
  const over = "/" + "é".repeat(512); // 1025 bytes, 513 characters
  const r = parseKey(keyPath(over));
  assert.ok("error" in r && /1024/.test(r.error), JSON.stringify(r));
  const four = "/" + "😀".repeat(255) + "abc"; // 1 + 1020 + 3
  assert.equal(parseKey(keyPath(four)), { key: four });
  assert.ok("error" in parseKey(keyPath(four + "d")));
});

test("keyPath: the encoded path parses back to the same key", () => {
  const keys = ["/a", "/a b/c", "/ü/😀", "/%41", "/a?b#c", "/dir/", "/a+b&c=d", "/tab\there", "/x/.hidden", "/a;b,c"];
  for (const k of keys) {
    const p = keyPath(k);
    assert.match(p, /^[\x21-\x7e]+$/, `${k} → ${p} is plain ASCII with no spaces`);
    assert.not.match(p, /[?#]/);
    assert.equal(parseKey(p), { key: k }, k);
  }
});

test("keyPath: exact encodings (what the master puts in Location and the tools send)", () => {
  const paths: Record<string, string> = {
    "/a": "/a",
    "/dir/": "/dir/",
    "/a b/c": "/a%20b/c",
    "/ü": "/%C3%BC",
    "/a?b#c": "/a%3Fb%23c",
    "/%41": "/%2541",
    "/a+b&c=d": "/a%2Bb%26c%3Dd",
    "/x/.hidden": "/x/.hidden",
  };
  for (const [key, path] of Object.entries(paths)) assert.is(keyPath(key), path, key);
});

// ---------------------------------------------------------------- blobPath

test("blobPath: known answers (a change would strand every stored blob)", () => {
  // printf '%s' /a | sha256sum
  assert.is(blobPath("/a"), "6a/50/6a50dc8584134c7de537c0052ff6d236bf874355e050c90523e0c5ff2a543a28");
  // printf '%s' /ü | sha256sum (the key's UTF-8 bytes)
  assert.is(blobPath("/ü"), "80/c0/80c0f51a4ac6bc6b229bc20bdfab2144969ae9c709db866418ce4913b2a79305");
});

test("blobPath: aa/bb/<sha256 hex of the key>, 70 characters of [0-9a-f/]", () => {
  const keys = ["/a", "/b", "/a b", "/ü", "/" + "k".repeat(1023), "/" + "é".repeat(511) + "a", "/../../etc/passwd", "/dir/"];
  const seen = new Set<string>();
  for (const k of keys) {
    const p = blobPath(k);
    const h = createHash("sha256").update(k, "utf8").digest("hex");
    assert.is(p, `${h.slice(0, 2)}/${h.slice(2, 4)}/${h}`, k);
    assert.is(p.length, 70);
    assert.match(p, /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    assert.ok(p.split("/").every((s) => s.length <= 64 && s !== ".." && s !== "."));
    assert.is(blobPath(k), p, "deterministic");
    seen.add(p);
  }
  assert.is(seen.size, keys.length, "distinct keys, distinct files");
});

test("blobPath spreads keys over the 256 first-level dirs", () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `/bucket/object-${i}.bin`);
  const dirs = new Set(keys.map((k) => blobPath(k).slice(0, 2)));
  assert.is(dirs.size, 256);
});

test.run();
