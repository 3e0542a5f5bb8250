/** Reading a server's GET /_kvdb/metrics in tests: the exposition, and one sample of it. */
import * as assert from "uvu/assert";

/** The exposition of the server at `url` (checked: 200, format 0.0.4), and its body's size in bytes. */
export async function scrape(url: string): Promise<{ text: string; bytes: number }> {
  const res = await fetch(`${url}/_kvdb/metrics`);
  assert.is(res.status, 200);
  assert.is(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  return { text, bytes: Buffer.byteLength(text) };
}

/** The value of the one sample whose name and labels are exactly `series`. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
