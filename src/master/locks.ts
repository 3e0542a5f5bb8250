/**
 * The keys with a write, delete, cleanup or job step in flight: one operation per key
 * at a time. A second PUT or DELETE of a held key waits for it (in-flight.ts), as a
 * job step does, up to a deadline; the janitor skips a held key; a stopping master
 * waits for every key to be let go.
 */
/** What an operation that found its key held by another write or delete says (S3's 409; the curl API waits, then 503). */
export const IN_FLIGHT = "another write or delete of this key is in flight";

export class KeyLocks {
  /** Each held key, with the deadline its holder was given (holdBy), if any. */
  private readonly held = new Map<string, number | undefined>();
  /** Woken at the next release. */
  private waiting: (() => void)[] = [];

  has(key: string): boolean {
    return this.held.has(key);
  }

  /** Runs `fn` holding `key` (until `deadline`, if given: deadlineOf); undefined, without running it, if the key is held already. */
  hold<T>(key: string, fn: () => Promise<T>, deadline?: number): Promise<T> | undefined {
    if (this.held.has(key)) return undefined;
    this.held.set(key, deadline);
    return fn().finally(() => this.release(key));
  }

  /**
   * The deadline the holder of `key` was given, so that the waits it does while holding
   * the key end by it too (in-flight.ts: one --busy-wait in all); undefined if none.
   */
  deadlineOf(key: string): number | undefined {
    return this.held.get(key);
  }

  /** Waits up to `waitMs` (default 5 s) for `key` to be let go, then runs `fn` holding it; false if it stayed held. */
  async holdWhenFree(key: string, fn: () => Promise<void>, waitMs = 5000): Promise<boolean> {
    return (await this.holdBy(key, Date.now() + waitMs, fn)) !== undefined;
  }

  /** Waits until `deadline` (Date.now() time) for `key` to be let go, then runs `fn` holding it; undefined, without running it, if it stayed held. */
  async holdBy<T>(key: string, deadline: number, fn: () => Promise<T>): Promise<{ value: T } | undefined> {
    while (this.held.has(key)) if (!(await this.nextRelease(deadline))) return undefined;
    return { value: await this.hold(key, fn, deadline)! }; // free: nothing ran between the check and the hold
  }

  /** Waits until no key is held, or `waitMs` has passed. */
  async idle(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.held.size && (await this.nextRelease(deadline)));
  }

  private release(key: string): void {
    this.held.delete(key);
    const woken = this.waiting;
    this.waiting = [];
    for (const wake of woken) wake();
  }

  /** True at the next release, false at `deadline`. */
  private nextRelease(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), left);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
