/**
 * List-after-write: a key whose PUT got 201 before a `?list` began appears in that list,
 * unless a DELETE of the key may have come between (one that was not a 404 and was
 * running at some time after the PUT's call and before the list's answer).
 */
import type { Listed, Recorded } from "./history.ts";

export interface ListFinding {
  key: string;
  put: Recorded;
  list: Listed;
  /** The key's other operations from the PUT's call to a second after the list's answer, for reading the finding. */
  around: Recorded[];
}

/** How long after the list's answer `around` goes on: what the key did next says what the list missed. */
const AFTER_MS = 1000;

/** A DELETE that may have removed the key: anything but a 404 or a 409 (which removed nothing), or a request never sent. */
export const mayRemove = (d: Recorded) => d.f === "delete" && d.status !== 404 && d.status !== 409 && d.status !== "refused";

export function listAfterWrite(history: readonly Recorded[], lists: readonly Listed[]): ListFinding[] {
  const findings: ListFinding[] = [];
  const byKey = new Map<string, { puts: Recorded[]; deletes: Recorded[] }>();
  for (const r of history) {
    const k = byKey.get(r.key) ?? { puts: [], deletes: [] };
    byKey.set(r.key, k);
    if (r.f === "put" && r.status === 201) k.puts.push(r);
    else if (mayRemove(r)) k.deletes.push(r);
  }
  for (const list of lists) {
    if (!list.keys || list.ret === undefined) continue;
    const listed = new Set(list.keys);
    for (const [key, { puts, deletes }] of byKey) {
      if (!key.startsWith(list.prefix) || listed.has(key)) continue;
      const put = puts.find((p) => p.ret! < list.call && !deletes.some((d) => d.call < list.ret! && (d.ret ?? Infinity) > p.call));
      if (!put) continue;
      const around = history.filter((r) => r.key === key && r !== put && (r.ret ?? Infinity) >= put.call && r.call <= list.ret! + AFTER_MS);
      findings.push({ key, put, list, around });
    }
  }
  return findings;
}
