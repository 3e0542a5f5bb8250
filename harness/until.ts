/** Waiting for a condition with a deadline: the tests' readiness check, never a fixed sleep. */

/** Polls `check` until it holds; throws, naming `what`, after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const checked = async () => {
    try {
      return await check();
    } catch (e) {
      // fetch's "fetch failed" hides what failed (refused, reset, closed): say it.
      const cause = (e as Error & { cause?: Error & { code?: string } }).cause;
      if (cause) throw new Error(`while waiting for ${what}: ${(e as Error).message}: ${cause.code ?? ""} ${cause.message}`, { cause: e });
      throw e;
    }
  };
  while (!(await checked())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
