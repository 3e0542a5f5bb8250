/**
 * Web-standard servers (Deno.serve): an exchange's meter (runtime/request.ts) made of what
 * such a server offers — the request body handed to handlers through a counting
 * iterator, the answer's body through a counting stream, and a promise that settles
 * when the answer is delivered or the client is gone (Deno's ServeHandlerInfo.completed).
 */
import type { ExchangeMeter } from "./request.ts";

/**
 * An answer this small (or none) is written as soon as it is handed over: the socket's
 * send buffer takes it whole. Such answers end at the handler's return, skipping the
 * completion promise and keeping the runtime's fast path for redirects and error lines.
 */
const AT_ONCE_BYTES = 64 * 1024;

export class StreamMeter implements ExchangeMeter {
  receivedBytes = 0;
  sentBytes = 0;
  #ended = false;
  #done: (() => void) | null = null;

  /** `delivered()` gives the promise that settles when the answer is delivered or the client gone. */
  constructor(private readonly delivered: () => Promise<unknown>) {}

  whenDone(done: () => void): void {
    if (this.#ended) return done();
    const before = this.#done; // the metrics and the --verbose log both wait
    this.#done = before
      ? () => {
          before();
          done();
        }
      : done;
  }

  #end = () => {
    this.#ended = true;
    this.#done?.();
  };

  /** The request body as chunks, each counted as a handler takes it. */
  async *received(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of body) {
      this.receivedBytes += chunk.byteLength;
      yield chunk;
    }
  }

  /** An answer without a body, made by the adapter itself: the exchange ends as it is handed over. */
  sentNothing(): void {
    this.#end();
  }

  /**
   * `res` with its body counted as it goes out, ending the exchange when it is delivered.
   * A declared length is taken as said (a file slice, an error line): those answers keep
   * the runtime's own way of sending.
   */
  sent(res: Response, head: boolean): Response {
    const declared = res.headers.get("content-length");
    if (declared !== null) {
      this.sentBytes = Number(declared);
      if (head || this.sentBytes <= AT_ONCE_BYTES) this.#end();
      else this.delivered().then(this.#end, this.#end);
      return res;
    }
    const body = head ? null : res.body;
    if (!body) {
      this.#end();
      return res;
    }
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, out) => {
          this.sentBytes += chunk.byteLength;
          out.enqueue(chunk);
        },
      }),
    );
    this.delivered().then(this.#end, this.#end);
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  }
}
