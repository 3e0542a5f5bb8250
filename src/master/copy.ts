/** Master-side helpers of rebalance and verify: volume→volume copies and re-hash checks. */
import { runtime } from "../runtime/mod.ts";
import type { Master } from "./master.ts";
import type { KeyRecord } from "./records.ts";

/**
 * Has `target` pull the key's value from the first of `sources` that can give it, checked
 * against the record's size and md5, fsynced before the answer. Returns "" on success,
 * else why every source failed.
 */
export async function pull(m: Master, target: string, key: string, record: KeyRecord, sources: string[]): Promise<string> {
  const why: string[] = [];
  for (const from of sources) {
    if (m.volumes.get(from)?.up === false) continue; // listed and down
    const query = { from, size: String(record.size), md5: record.md5 };
    try {
      const res = await runtime.call(m.volumes.url(target, `/_kvdb/pull${key}`, "POST", query), {
        method: "POST",
        // The answer comes once the whole value is copied and fsynced: allow ~20 MB/s at worst.
        timeoutMs: m.timeoutMs + record.size / 20_000,
      });
      const text = await res.text();
      if (res.status === 201) return "";
      why.push(`${from}→${target}: ${res.status} ${text.trim()}`);
    } catch (e) {
      why.push(`${from}→${target}: ${(e as Error).message}`);
    }
  }
  return why.join("; ") || `no source of ${key} is up`;
}

export type Health = "good" | "missing" | "corrupt" | "unreachable";

/** Re-hashes one replica on its volume and compares it with the record. */
export async function checkReplica(m: Master, volume: string, key: string, record: KeyRecord): Promise<{ health: Health; detail: string }> {
  if (!m.volumes.isUp(volume)) return { health: "unreachable", detail: `${volume} is down` };
  try {
    // Re-hashing a big value takes a while: allow for reading it at ~50 MB/s at worst.
    const res = await runtime.call(m.volumes.url(volume, `/_kvdb/check${key}`), { timeoutMs: m.timeoutMs + record.size / 50_000 });
    if (res.status === 404) {
      await res.body?.cancel();
      return { health: "missing", detail: `${key} missing on ${volume}` };
    }
    if (res.status !== 200) {
      const text = await res.text();
      return { health: "unreachable", detail: `${volume} answered ${res.status} ${text.trim()}` };
    }
    const got = (await res.json()) as { size: number; md5: string };
    if (got.size !== record.size || got.md5 !== record.md5) {
      return { health: "corrupt", detail: `${key} on ${volume}: ${got.size} bytes md5 ${got.md5}, expected ${record.size} bytes md5 ${record.md5}` };
    }
    return { health: "good", detail: "" };
  } catch (e) {
    return { health: "unreachable", detail: `${volume}: ${(e as Error).message}` };
  }
}
