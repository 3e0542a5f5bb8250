/**
 * A master whose wall clock the nemesis moves while it runs: Debian's libfaketime
 * (package faketime) preloaded, reading the offset from a file (say "+300" seconds)
 * at most once a second. Monotonic clocks are left true, so only wall-clock time lies,
 * as on a machine whose NTP went wrong.
 */
import { existsSync } from "node:fs";

const LIB = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"].find(existsSync);

/** Why there can be no skewed master here, or "". */
export function noFaketime(): string {
  return LIB ? "" : "no libfaketime (apt-get install faketime, as .ci/run does)";
}

/** The environment that offsets a process's wall clock by what `file` says. */
export function skewEnv(file: string): Record<string, string> {
  return { LD_PRELOAD: LIB!, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: "1", FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

/** `command` (a runtime's command for kvdb) run with its clock offset by what `file` says. */
export function skewed(command: readonly string[], file: string): string[] {
  return ["env", ...Object.entries(skewEnv(file)).map(([k, v]) => `${k}=${v}`), ...command];
}
