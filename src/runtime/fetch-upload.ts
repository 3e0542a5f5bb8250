/**
 * A streamed PUT through `fetch`, for Bun and Deno (whose fetch streams request
 * bodies; Node's buffers them whole, so node.ts uses node:http instead).
 * Backpressure: write() waits until fetch has pulled the queue below 1 MiB.
 */
import type { Upload } from "./types.ts";

export function fetchUpload(url: string, headers: Record<string, string>): Upload {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let wake: (() => void) | null = null;
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => void (controller = c),
      pull: () => {
        wake?.();
        wake = null;
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }),
  );
  const aborter = new AbortController();
  const answer = fetch(url, { method: "PUT", headers, body, signal: aborter.signal, duplex: "half" } as RequestInit).then(
    async (res) => ({ status: res.status, body: await res.text() }),
  );
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
      await Promise.race([new Promise<void>((r) => (wake = r)), early]);
    },
    end() {
      controller.close();
      return answer;
    },
    abort(reason) {
      try {
        controller.error(reason);
      } catch {
        // already closed
      }
      aborter.abort(reason);
    },
  };
}
