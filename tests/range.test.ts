/**
 * Unit tests of the volume's Range and If-None-Match handling (src/volume/range.ts):
 * which bytes a header asks for, and when it is ignored (200) or unsatisfiable (416).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { matchesEtag, parseRange, type RangeAnswer } from "../src/volume/range.ts";

const FULL: RangeAnswer = { kind: "full" };
const NONE: RangeAnswer = { kind: "unsatisfiable" };
const part = (start: number, end: number): RangeAnswer => ({ kind: "partial", start, end });

test("no Range header: the whole value", () => {
  assert.equal(parseRange(undefined, 10), FULL);
  assert.equal(parseRange("", 10), FULL);
});

test("first-last: exactly those bytes, inclusive", () => {
  assert.equal(parseRange("bytes=0-0", 10), part(0, 0));
  assert.equal(parseRange("bytes=2-5", 10), part(2, 5));
  assert.equal(parseRange("bytes=9-9", 10), part(9, 9));
  assert.equal(parseRange("bytes=0-9", 10), part(0, 9));
  assert.equal(parseRange("  bytes=2-5  ", 10), part(2, 5), "surrounding spaces are trimmed");
});

test("a last byte past the end is clipped to the end", () => {
  assert.equal(parseRange("bytes=5-100", 10), part(5, 9));
  assert.equal(parseRange("bytes=0-99999999999999999999", 10), part(0, 9));
});

test("first- (open end): from there to the end", () => {
  assert.equal(parseRange("bytes=5-", 10), part(5, 9));
  assert.equal(parseRange("bytes=0-", 1), part(0, 0));
});

test("-n (suffix): the last n bytes, all of them if n exceeds the size", () => {
  assert.equal(parseRange("bytes=-3", 10), part(7, 9));
  assert.equal(parseRange("bytes=-10", 10), part(0, 9));
  assert.equal(parseRange("bytes=-20", 10), part(0, 9));
});

test("unsatisfiable (416): a first byte at or past the end, or a zero-length suffix", () => {
  assert.equal(parseRange("bytes=10-", 10), NONE);
  assert.equal(parseRange("bytes=10-20", 10), NONE);
  assert.equal(parseRange("bytes=-0", 10), NONE);
  assert.equal(parseRange("bytes=0-", 0), NONE);
  assert.equal(parseRange("bytes=0-0", 0), NONE);
});

test("a suffix of an empty value: the (empty) whole, since no 206 can describe it", () => {
  assert.equal(parseRange("bytes=-5", 0), FULL);
});

test("malformed, reversed or multi-range headers are ignored: the whole value", () => {
  for (const h of ["bytes=5-2", "bytes=-", "bytes=0-1,3-4", "bytes=0-1, 3-4", "items=0-1", "bytes=a-b", "bytes= 0-1", "bytes=1.5-2", "bytes=-1-2", "bytes 0-1", "0-1"]) {
    assert.equal(parseRange(h, 10), FULL, h);
  }
});

test("If-None-Match: the same tag matches, weak or strong, alone or in a list", () => {
  const etag = '"0cc175b9c0f1b6a831c399e269772661"';
  assert.ok(matchesEtag(etag, etag));
  assert.ok(matchesEtag(`W/${etag}`, etag), "weak comparison: W/ on the request");
  assert.ok(matchesEtag(etag, `W/${etag}`), "weak comparison: W/ on the entity");
  assert.ok(matchesEtag(`"other", ${etag}`, etag));
  assert.ok(matchesEtag(`"other",${etag} , "third"`, etag));
  assert.ok(matchesEtag("*", etag));
  assert.ok(matchesEtag(" * ", etag));
});

test("If-None-Match: another tag, an unquoted or differently cased one, or none does not match", () => {
  const etag = '"abc"';
  assert.not.ok(matchesEtag(undefined, etag));
  assert.not.ok(matchesEtag("", etag));
  assert.not.ok(matchesEtag('"abd"', etag));
  assert.not.ok(matchesEtag("abc", etag), "the quotes are part of the tag");
  assert.not.ok(matchesEtag('"ABC"', etag), "tags compare case-sensitively");
  assert.not.ok(matchesEtag('"ab", "bc"', etag));
  assert.not.ok(matchesEtag('"*"', etag), "a quoted star is a tag, not the wildcard");
});

test.run();
