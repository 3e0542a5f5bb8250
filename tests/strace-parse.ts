/**
 * Reads the output of `strace -f -tt -xx -o FILE` into syscalls, each with where it
 * entered and where it returned. With -f, a syscall another thread interrupts is split
 * into an "<unfinished ...>" line (its entry) and a "<... name resumed>" line (its
 * return); a whole line is both at once. Positions are line numbers: strace writes
 * the stops in the order it handles them, so a syscall that waited for another's
 * result (through the event loop) always comes after it.
 */

export interface Syscall {
  pid: number;
  name: string;
  /** The arguments as printed, entry and return parts joined. */
  args: string;
  /** The return value; undefined if the process died first ("= ?"). */
  ret?: number;
  /** Line of the entry, and of the return. */
  entry: number;
  exit: number;
  /** "16:12:26.391321" of the entry line (-tt), for messages. */
  time: string;
}

const PREFIX = /^(?:\[pid\s+)?(\d+)\]?\s+(\d\d:\d\d:\d\d\.\d+)\s+/;
const UNFINISHED = / <unfinished \.\.\.>$/;
const RESUMED = /^<\.\.\. (\w+) resumed>\s?(.*)$/;
const WHOLE = /^(\w+)\((.*)$/;

/** Splits "args) = ret ..." (strace pads before "=") into the arguments and the return value. */
function splitReturn(rest: string): { args: string; ret?: number } | null {
  const m = /^(.*)\)\s+= (-?\d+|\?)/s.exec(rest);
  if (!m) return null;
  return { args: m[1], ret: m[2] === "?" ? undefined : Number(m[2]) };
}

/** Every syscall in the trace, in the order of their return lines. */
export function parseTrace(text: string): Syscall[] {
  const calls: Syscall[] = [];
  const open = new Map<number, { name: string; head: string; entry: number; time: string }>();
  const lines = text.split("\n");
  lines.forEach((line, n) => {
    const p = PREFIX.exec(line);
    if (!p) return;
    const pid = Number(p[1]);
    const body = line.slice(p[0].length);
    const resumed = RESUMED.exec(body);
    if (resumed) {
      const started = open.get(pid);
      open.delete(pid);
      const done = splitReturn(resumed[2]);
      if (!started || started.name !== resumed[1] || !done) return;
      calls.push({ pid, name: started.name, args: started.head + done.args, ret: done.ret, entry: started.entry, exit: n, time: started.time });
      return;
    }
    const whole = WHOLE.exec(body);
    if (!whole) return; // "--- SIGCHLD ...", "+++ exited ...", and the like
    if (UNFINISHED.test(body)) {
      open.set(pid, { name: whole[1], head: whole[2].replace(UNFINISHED, ""), entry: n, time: p[2] });
      return;
    }
    const done = splitReturn(whole[2]);
    if (done) calls.push({ pid, name: whole[1], args: done.args, ret: done.ret, entry: n, exit: n, time: p[2] });
  });
  return calls;
}

/**
 * The byte strings among a syscall's arguments (with -xx every byte is \xNN), in order.
 * `cut` is true for a string strace shortened (printed with "..." after it: -s too small).
 */
export function strings(args: string): { bytes: Buffer; cut: boolean }[] {
  const out: { bytes: Buffer; cut: boolean }[] = [];
  for (const m of args.matchAll(/"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?/g)) {
    out.push({ bytes: Buffer.from(m[1].replaceAll("\\x", ""), "hex"), cut: m[2] !== undefined });
  }
  return out;
}

/** The first argument as a number (the fd of most calls), or -1. */
export function firstInt(args: string): number {
  const m = /^\s*(-?\d+)/.exec(args);
  return m ? Number(m[1]) : -1;
}
