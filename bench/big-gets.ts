/**
 * One large value PUT with curl from a file (`curl -L -T`, as users do), then read
 * through the redirect with curl (`curl -L -o /dev/null`), one at a time and 4 at once,
 * the same for kvdb and minikeyvalue (whose volumes are nginx), then deleted.
 */
import { runChild } from "../harness/children.ts";

export interface BigGets {
  /** MB/s of each single GET. */
  single: number[];
  /** MB/s of 4 GETs at once: all their bytes over the wall time of the slowest. */
  four: number;
}

async function curl(args: string[], timeoutMs: number): Promise<string> {
  const r = await runChild(["curl", "-s", "-S", ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`curl ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** GET of `url` following the redirect; the bytes read, which must be `size`. */
async function get(url: string, size: number): Promise<void> {
  const got = Number(await curl(["-L", "-o", "/dev/null", "-w", "%{size_download}", url], 300_000));
  if (got !== size) throw new Error(`GET ${url} read ${got} bytes, not ${size}`);
}

/** `file` PUT with `curl -L -T` (Expect: 100-continue, following a direct write's 307) under a new key of `master`: its URL and MB/s. */
export async function bigPut(master: string, file: string, size: number): Promise<{ url: string; mbPerSec: number }> {
  const url = `${master}/bench-big-get-${Date.now()}`;
  const t0 = performance.now();
  const put = await curl(["-L", "-T", file, "-o", "/dev/null", "-w", "%{http_code}", url], 300_000);
  if (!put.startsWith("2")) throw new Error(`PUT ${url} answered ${put}`);
  return { url, mbPerSec: size / 1e6 / ((performance.now() - t0) / 1000) };
}

/** The value at `url` (of `size` bytes) read `singles` times alone and 4 times at once, then deleted. */
export async function bigGets(url: string, size: number, singles = 2): Promise<BigGets> {
  try {
    const single: number[] = [];
    for (let i = 0; i < singles; i++) {
      const t0 = performance.now();
      await get(url, size);
      single.push(size / 1e6 / ((performance.now() - t0) / 1000));
    }
    const t0 = performance.now();
    await Promise.all([0, 1, 2, 3].map(() => get(url, size)));
    return { single, four: (4 * size) / 1e6 / ((performance.now() - t0) / 1000) };
  } finally {
    await curl(["-X", "DELETE", "-o", "/dev/null", url], 60_000).catch(() => undefined);
  }
}
