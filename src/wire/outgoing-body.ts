/**
 * A streamed PUT to a volume (from the master, or from the volume a direct write came
 * to: volume/direct-write.ts), through node:http(s) on every runtime:
 * measured on a 1 GiB PUT with 3 replicas, Bun's fetch pulled the whole body into
 * memory (1.2 GiB RSS) where node:http kept real backpressure (91 MiB) and was faster;
 * Node's own fetch buffers streamed bodies too (undici issue 4058).
 */
import { once } from "node:events";
import { callRequest } from "../runtime/keep-alive.ts";

/** The receiver answered (a 507 for a full disk, say) before the body was all sent. */
export class EarlyAnswer extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The receiver took no byte and gave no answer for the stall time. */
export class Stalled extends Error {}

/**
 * How a call's connection failed before any answer, if it did (node:http says so alike on
 * every runtime): "refused", nothing listens at the receiver's address now; "reset", it
 * broke, as a kept-alive connection does when its receiver died before the sender saw it
 * close. Either way nothing was answered, and the call may be made again.
 */
export function connectionLost(e: unknown): "refused" | "reset" | undefined {
  // node:http's error, or (runtime.call under a fetch) its cause.
  const err = e as { code?: string; cause?: { code?: string } } | undefined;
  const code = err?.code ?? err?.cause?.code;
  return code === "ECONNREFUSED" ? "refused" : code === "ECONNRESET" || code === "EPIPE" ? "reset" : undefined;
}

/** One streamed HTTP request body going out to a volume. */
export interface OutgoingBody {
  /** Resolves once connected to the receiver, before any body byte is needed. */
  ready(): Promise<void>;
  /** Resolves when the receiver can take more: the slowest receiver paces the sender. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the body (with `trailers`, for a chunked one) and waits for the receiver's answer. */
  end(trailers?: Record<string, string>): Promise<{ status: number; body: string }>;
  abort(reason: unknown): void;
}

/**
 * Starts a streamed PUT (or `method`) of a body to `url`. It fails once the receiver
 * has neither taken bytes nor answered for `stallMs`: a hung volume cannot hang a PUT.
 * Of the answer's body, at most `answerMax` characters are kept.
 */
export function upload(url: string, headers: Record<string, string>, stallMs: number, { method = "PUT", answerMax = 4096 } = {}): OutgoingBody {
  const req = callRequest(url, method, headers);
  // Socket idle time: no byte taken and no answer for stallMs.
  req.setTimeout(stallMs, () => req.destroy(new Stalled(`volume stalled for ${stallMs} ms`)));
  const connected = new Promise<void>((resolve, reject) => {
    req.once("error", reject);
    req.once("socket", (s) => (s.connecting ? s.once("connect", () => resolve()) : resolve()));
  });
  connected.catch(() => {});
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += body.length + d.length <= answerMax ? d : ""));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
  });
  answer.catch(() => {}); // observed by write()/end(); never an unhandled rejection
  // Made when a write first has to wait: most small values never do, and an Error (with
  // its stack) per upload showed in the master's profile (docs/CHANGELOG.md).
  let early: Promise<never> | undefined;
  const answeredEarly = () =>
    (early ??= answer.then((r) => {
      throw new EarlyAnswer(r.status, `answered ${r.status} ${r.body.trim()}`); // before the upload ended
    }));
  return {
    ready: () => connected,
    async write(chunk) {
      if (req.write(chunk)) return;
      await Promise.race([once(req, "drain"), answeredEarly()]);
    },
    end(trailers) {
      if (trailers) req.addTrailers(trailers);
      req.end();
      return answer;
    },
    abort(reason) {
      req.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    },
  };
}

