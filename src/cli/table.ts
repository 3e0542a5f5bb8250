/** Aligned text tables for the terminal: a header row, then rows; numbers to the right. */
export function alignTable(header: readonly string[], rows: string[][], rightAligned: (column: number) => boolean): string {
  const all = [[...header], ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (rightAligned(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return all.map(line).join("\n") + "\n";
}
