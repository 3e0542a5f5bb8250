/**
 * Failure domains. Each volume is in a zone (a machine, a rack: whatever fails
 * together); by default its host. Two replicas of a key should not share a zone while
 * the cluster has another: placement keeps rendezvous order but takes one volume from
 * each zone first, and only then the rest, in the same order.
 */

/** A volume as listed: "host:port" or "host:port=zone", "https://" first if it serves TLS. */
export interface VolumeSpec {
  name: string;
  zone: string;
  /** Listed as https://: called over TLS. */
  secure: boolean;
}

/** "10.0.0.1:3001=rack1" → name 10.0.0.1:3001, zone rack1; without "=zone" the zone is the host. */
export function parseVolumeSpec(s: string): VolumeSpec {
  const eq = s.indexOf("=");
  const given = (eq < 0 ? s : s.slice(0, eq)).trim();
  const name = given.replace(/^https?:\/\//i, "").replace(/\/+$/, "");
  const zone = eq < 0 ? "" : s.slice(eq + 1).trim();
  return { name, zone: zone || hostOf(name), secure: /^https:\/\//i.test(given) };
}

export function hostOf(name: string): string {
  const colon = name.lastIndexOf(":");
  return colon < 0 ? name : name.slice(0, colon);
}

/**
 * `order` (best first) with one volume of each zone first, zones in the order of their
 * best volume, then every other volume in its place in `order`.
 */
export function spreadByZone(order: readonly string[], zoneOf: (volume: string) => string): string[] {
  const seen = new Set<string>();
  const first: string[] = [];
  const rest: string[] = [];
  for (const v of order) {
    const zone = zoneOf(v);
    if (seen.has(zone)) rest.push(v);
    else {
      seen.add(zone);
      first.push(v);
    }
  }
  return [...first, ...rest];
}

/** Zones used twice or more among `volumes`. */
export function sharedZones(volumes: readonly string[], zoneOf: (volume: string) => string): string[] {
  const count = new Map<string, number>();
  for (const v of volumes) count.set(zoneOf(v), (count.get(zoneOf(v)) ?? 0) + 1);
  return [...count].filter(([, n]) => n > 1).map(([z]) => z);
}
