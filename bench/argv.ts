import process from "node:process";

/** `--name value` or `--name=value` from the command line, else `fallback`; a flag given without a value is an error. */
export function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const v = args[i].includes("=") ? args[i].slice(args[i].indexOf("=") + 1) : args[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  return v;
}
