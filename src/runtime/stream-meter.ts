/**
 * Web-standard servers (Deno.serve): an exchange's meter (http/request.ts) made of what
 * such a server offers — the request body handed to handlers through a counting
 * iterator, the answer's body through a counting stream, and a promise that settles
 * when the answer is delivered or the client is gone (Deno's ServeHandlerInfo.completed).
 */
import type { ExchangeMeter } from "../http/request.ts";

export class StreamMeter implements ExchangeMeter {
  receivedBytes = 0;
  sentBytes = 0;
  #ended = false;
  #done: (() => void) | null = null;

  constructor(ended: Promise<unknown>) {
    const end = () => {
      this.#ended = true;
      this.#done?.();
    };
    ended.then(end, end);
  }

  whenDone(done: () => void): void {
    if (this.#ended) done();
    else this.#done = done;
  }

  /** The request body as chunks, each counted as a handler takes it. */
  async *received(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      this.receivedBytes += chunk.byteLength;
      yield chunk;
    }
  }

  /**
   * `res` with its body counted as it goes out. A declared length is taken as said (a
   * file slice, an error line), so those answers keep the runtime's own fast path.
   */
  sent(res: Response): Response {
    const declared = res.headers.get("content-length");
    if (declared !== null) {
      this.sentBytes = Number(declared);
      return res;
    }
    const body = res.body;
    if (!body) return res;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, out) => {
          this.sentBytes += chunk.byteLength;
          out.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
}
