/**
 * Node (and Bun's node:http): the request and response classes the server makes, counting
 * body bytes where every body passes, whoever reads or writes it: the parser's push()
 * (chunked bodies de-chunked, unread ones drained too) and write()/end() (@hono/node-server's
 * bodies and node-send.ts's raw file path alike). Fields on the objects Node makes anyway:
 * nothing allocated per request. The response is the exchange's meter (runtime/request.ts).
 */
import { IncomingMessage, ServerResponse } from "node:http";
import type { ExchangeMeter } from "./request.ts";

export class MeteredIncoming extends IncomingMessage {
  receivedBytes = 0;
}

export class MeteredResponse extends ServerResponse implements ExchangeMeter {
  sentBytes = 0;

  get receivedBytes(): number {
    return (this.req as MeteredIncoming).receivedBytes;
  }

  whenDone(done: () => void): void {
    // 'close' comes after 'finish' (the last byte handed to the socket) or when the client left.
    if (this.closed) done();
    else this.on("close", done); // emitted once; on() spares once()'s wrapper
  }
}

type Chunk = string | Uint8Array | null | undefined | ((...a: unknown[]) => void);

function size(chunk: Chunk, encoding: unknown): number {
  if (typeof chunk === "string") return Buffer.byteLength(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
  return chunk && typeof chunk !== "function" ? chunk.byteLength : 0;
}

// Patched on the subclasses' prototypes (TypeScript's overloads make overriding awkward).
// OutgoingMessage.end() writes its last chunk internally, not through this.write(): no double count.
const push = IncomingMessage.prototype.push;
MeteredIncoming.prototype.push = function (this: MeteredIncoming, chunk: Uint8Array | null, encoding?: BufferEncoding) {
  if (chunk) this.receivedBytes += chunk.byteLength;
  return push.call(this, chunk, encoding);
};
const write = ServerResponse.prototype.write as (this: ServerResponse, c: Chunk, e?: unknown, cb?: unknown) => boolean;
MeteredResponse.prototype.write = function (this: MeteredResponse, chunk: Chunk, encoding?: unknown, cb?: unknown) {
  this.sentBytes += size(chunk, encoding);
  return write.call(this, chunk, encoding, cb);
} as MeteredResponse["write"];
const end = ServerResponse.prototype.end as (this: ServerResponse, c?: Chunk, e?: unknown, cb?: unknown) => ServerResponse;
MeteredResponse.prototype.end = function (this: MeteredResponse, chunk?: Chunk, encoding?: unknown, cb?: unknown) {
  this.sentBytes += size(chunk, encoding);
  return end.call(this, chunk, encoding, cb) as MeteredResponse;
} as MeteredResponse["end"];
