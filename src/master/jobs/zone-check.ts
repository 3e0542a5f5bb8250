/** verify's failure-domain check: replicas that share a zone while another zone has room. */
import { sharedZones } from "../../keys/zones.ts";
import type { Master } from "../master.ts";

/** Why `volumes` (a key's replicas, `size` bytes) are crowded, or "" if they are spread as well as the cluster allows. */
export function crowded(m: Master, volumes: string[], size: number): string {
  const zoneOf = (v: string) => m.volumes.zoneOf(v);
  const shared = sharedZones(volumes, zoneOf);
  if (!shared.length) return "";
  const used = new Set(volumes.map(zoneOf));
  const roomy = m.volumes.all.find((v) => v.up && !used.has(v.zone) && v.free >= size);
  return roomy ? `replicas share zone ${shared.join(",")} while zone ${roomy.zone} has room (rebalance spreads them)` : "";
}
