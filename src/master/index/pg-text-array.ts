/**
 * PostgreSQL's text[] (type 1009), the one array type kvdb stores (a key's volumes),
 * declared to postgres.js by hand so that it need not ask each new connection's server
 * for its array types (pg-connection.ts says why that is turned off). One dimension, no
 * NULL elements: the literal syntax of PostgreSQL's "Arrays" chapter, 8.15.6.
 */
const TEXT_ARRAY = 1009;

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function serialize(xs: readonly string[]): string {
  return `{${xs.map(quote).join(",")}}`;
}

export function parse(literal: string): string[] {
  const out: string[] = [];
  let i = 1; // after "{"
  while (i < literal.length - 1) {
    let item = "";
    if (literal[i] === '"') {
      for (i++; i < literal.length && literal[i] !== '"'; i++) item += literal[i] === "\\" ? literal[++i] : literal[i];
      i++; // the closing quote
    } else {
      while (i < literal.length && literal[i] !== "," && literal[i] !== "}") item += literal[i++];
    }
    out.push(item);
    i++; // the "," (or the closing "}")
  }
  return out;
}

/** The `types` entry for postgres.js's options. */
export const textArray = { to: TEXT_ARRAY, from: [TEXT_ARRAY], serialize, parse };
