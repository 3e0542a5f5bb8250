/**
 * Outgoing requests through `fetch`, for Bun and Deno, whose fetch streams request
 * bodies (Node's buffers them whole, so node.ts uses node:http instead).
 * Upload backpressure: write() waits until fetch has pulled the queue below 1 MiB.
 */
import type { CallInit, Upload } from "./types.ts";

export function fetchUpload(url: string, headers: Record<string, string>, stallMs: number): Upload {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let wake: (() => void) | null = null;
  const aborter = new AbortController();
  // Watchdog: every pull (the receiver took bytes) restarts it; the answer stops it.
  let watchdog = setTimeout(stalled, stallMs);
  function stalled() {
    aborter.abort(new Error(`volume stalled for ${stallMs} ms`));
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(stalled, stallMs);
        wake?.();
        wake = null;
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }),
  );
  const answer = fetch(url, { method: "PUT", headers, body, signal: aborter.signal, duplex: "half" } as RequestInit)
    .then(async (res) => ({ status: res.status, body: await res.text() }))
    .finally(() => clearTimeout(watchdog));
  answer.catch(() => {});
  const early = answer.then((r) => {
    throw new Error(`volume answered ${r.status} before the upload ended`);
  });
  early.catch(() => {});
  return {
    // fetch gives no connect event: a dead receiver shows up on the first write.
    ready: () => Promise.resolve(),
    async write(chunk) {
      controller.enqueue(chunk);
      if ((controller.desiredSize ?? 1) > 0) return;
      const aborted = new Promise<never>((_, reject) =>
        aborter.signal.addEventListener("abort", () => reject(aborter.signal.reason), { once: true }),
      );
      aborted.catch(() => {});
      await Promise.race([new Promise<void>((r) => (wake = r)), early, aborted]);
    },
    end() {
      controller.close();
      return answer;
    },
    abort(reason) {
      clearTimeout(watchdog);
      try {
        controller.error(reason);
      } catch {
        // already closed
      }
      aborter.abort(reason);
    },
  };
}

/** runtime.call for Bun and Deno: their fetch, with a deadline for the answer to start. */
export async function fetchCall(url: string, { method = "GET", headers = {}, timeoutMs }: CallInit): Promise<Response> {
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  try {
    return await fetch(url, { method, headers, signal: aborter.signal });
  } finally {
    clearTimeout(timer);
  }
}
