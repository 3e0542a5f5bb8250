/** Sizes on the command line (1KiB, 4MiB, 1GiB, 100MB, 12345) and in the table. */

const UNITS: Record<string, number> = {
  "": 1, b: 1,
  k: 1e3, kb: 1e3, kib: 2 ** 10,
  m: 1e6, mb: 1e6, mib: 2 ** 20,
  g: 1e9, gb: 1e9, gib: 2 ** 30,
  t: 1e12, tb: 1e12, tib: 2 ** 40,
};

/** Bytes for "1KiB", "4 MiB", "1.5GB" or "12345"; undefined if it is not a size. */
export function parseSize(s: string | number): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(String(s).trim());
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** 1024 → "1 KiB", 268435456 → "256 MiB", 1500 → "1500 B". */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  for (const [unit, n] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (bytes >= n) return `${(bytes / n).toFixed(1)} ${unit}`;
  }
  return `${bytes} B`;
}

/** 186497568 KiB → "177.9 GiB": one decimal, for tables of disk space. */
export function humanSize(bytes: number): string {
  for (const [unit, n] of [["TiB", 2 ** 40], ["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (bytes >= n) return `${(bytes / n).toFixed(1)} ${unit}`;
  }
  return `${bytes} B`;
}
