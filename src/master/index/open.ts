/** Opening the index a master or `kvdb rebuild` was pointed at. */
import type { Index } from "./index.ts";
import { LevelIndex } from "./level.ts";

/** A directory: the embedded LevelDB index. */
export async function openIndex(location: string): Promise<Index> {
  const index = new LevelIndex(location);
  await index.open();
  return index;
}
