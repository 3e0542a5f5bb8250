/**
 * Bun's allocator (mimalloc) hands freed memory back to the kernel within 100 ms, and at
 * every garbage collection: a volume receiving a 1 MiB value then page-faults ~280
 * times to get it again, twice the CPU of the PUT (docs/PERFORMANCE.md, "Page faults").
 * mimalloc reads its settings from the environment once, before any JavaScript runs,
 * so a volume (or `kvdb server`) under Bun that was started without MIMALLOC_PURGE_DELAY
 * sets it and executes itself again: execve(2) through bun:ffi, the same process (same pid, so a
 * supervisor's kill reaches it), a fresh image that reads the setting. Node and Deno
 * get their allocator setting from mod.ts's shebang and deno.json's task instead. Not a
 * master alone: it receives few bodies, and keeping what it freed raised the peak RSS of
 * a fresh Bun master under a 1 GiB PUT from 101 to 122 MiB (npm run bench:rss).
 * Where execve cannot be called (no glibc, no bun:ffi), kvdb runs on as it is.
 */
import process from "node:process";

const SETTING = "MIMALLOC_PURGE_DELAY";
/** Never purge: a server's memory is bounded by its streams, not by its values. */
const NEVER = "-1";

interface Ffi {
  dlopen(lib: string, symbols: Record<string, { args: string[]; returns: string }>): { symbols: { execve(path: number, argv: number, envp: number): number } };
  ptr(view: ArrayBufferView): number;
}

const cString = (s: string) => Buffer.from(`${s}\0`);

export async function keepFreedMemory(): Promise<void> {
  const bun = (globalThis as { Bun?: { main: string } }).Bun;
  if (!bun || process.env[SETTING] !== undefined) return;
  let ffi: Ffi;
  try {
    ffi = (await import("bun:ffi" as string)) as Ffi;
  } catch {
    return;
  }
  // A compiled binary's argv[1] is its embedded entry point (/$bunfs/…), not an argument.
  const compiled = bun.main.startsWith("/$bunfs/");
  const args = [process.execPath, ...(compiled ? [] : process.execArgv), ...process.argv.slice(compiled ? 2 : 1)];
  const env = { ...process.env, [SETTING]: NEVER };
  const strings = [...args, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].map(cString);
  const pointers = (from: Buffer[]) => new BigUint64Array([...from.map((b) => BigInt(ffi.ptr(b))), 0n]);
  const argv = pointers(strings.slice(0, args.length));
  const envp = pointers(strings.slice(args.length));
  try {
    const libc = ffi.dlopen("libc.so.6", { execve: { args: ["ptr", "ptr", "ptr"], returns: "i32" } });
    libc.symbols.execve(ffi.ptr(strings[0]), ffi.ptr(argv), ffi.ptr(envp)); // returns only if it failed
  } catch {
    // not glibc: run on with Bun's default
  }
}
