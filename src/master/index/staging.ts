/** Rebuild's staged replicas, read back in key order, grouped into one entry per key. */
import type { Replica } from "./index.ts";

export interface StagedReplica {
  key: string;
  volume: number;
  replica: Replica;
}

/** Groups consecutive replicas of one key (the input is in key order). */
export async function* groupByKey(staged: AsyncIterable<StagedReplica>): AsyncGenerator<{ key: string; replicas: { volume: number; replica: Replica }[] }> {
  let group: { key: string; replicas: { volume: number; replica: Replica }[] } | undefined;
  for await (const { key, volume, replica } of staged) {
    if (group && group.key !== key) yield group;
    if (!group || group.key !== key) group = { key, replicas: [] };
    group.replicas.push({ volume, replica });
  }
  if (group) yield group;
}
