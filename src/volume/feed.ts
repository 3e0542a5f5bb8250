/**
 * A body handed over chunk by chunk: what a direct write's volume streams into its own
 * store (direct-write.ts) while it sends the same chunks to the other replicas. Each
 * write resolves once the reader has taken the chunk, so the store paces the sender
 * like any other replica; if the reader stops early, the write waiting fails.
 */
export class Feed implements AsyncIterableIterator<Uint8Array> {
  private reader?: { resolve(r: IteratorResult<Uint8Array>): void; reject(e: unknown): void };
  private offered?: { chunk: Uint8Array; taken(): void; refused(e: unknown): void };
  private ended = false;
  private failure?: unknown;
  private stopped = false;

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const offered = this.offered;
    if (offered) {
      this.offered = undefined;
      offered.taken();
      return Promise.resolve({ value: offered.chunk, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  /** The reader stopped (it failed, or had enough). */
  async return(): Promise<IteratorResult<Uint8Array>> {
    this.stopped = true;
    this.offered?.refused(new Error("the store stopped reading"));
    this.offered = undefined;
    return { value: undefined, done: true };
  }

  /** Resolves once the reader has taken `chunk`. */
  write(chunk: Uint8Array): Promise<void> {
    if (this.stopped) return Promise.reject(new Error("the store stopped reading"));
    const reader = this.reader;
    if (reader) {
      this.reader = undefined;
      reader.resolve({ value: chunk, done: false });
      return Promise.resolve();
    }
    return new Promise((taken, refused) => (this.offered = { chunk, taken, refused }));
  }

  end(): void {
    this.ended = true;
    this.reader?.resolve({ value: undefined, done: true });
    this.reader = undefined;
  }

  /** The reader's next read fails with `e`. */
  fail(e: unknown): void {
    this.failure = e;
    this.reader?.reject(e);
    this.reader = undefined;
  }
}
