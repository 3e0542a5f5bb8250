/**
 * Decoding an aws-chunked body (Content-Encoding: aws-chunked), streamed:
 *   <hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n … 0[;chunk-signature=<sig>]\r\n
 *   [<trailing header>:<value>\r\n …][x-amz-trailer-signature:<sig>\r\n]\r\n
 * Only the bytes come out: the framing is never stored. Signed chunks are checked as
 * each ends, chained from the request's signature; a signed trailer against the last
 * chunk's. Every failure throws an S3Error before the body ends, so the write it feeds
 * stores nothing (bytes already sent to the volumes are dropped with it).
 */
import { createHash } from "node:crypto";
import { S3Error } from "./errors.ts";
import { sameSignature, signChunk, signTrailer, type Signer } from "./sigv4.ts";

/** Longest framing line accepted (a size and a signature need ~90 bytes; a trailer a little more). */
const MAX_LINE = 4096;

const malformed = (why: string) => new S3Error("IncompleteBody", `malformed aws-chunked body: ${why}`);

/** Reads a stream of chunks as lines and byte runs. */
class Reader {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.it = body[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  /** The next line, without its CRLF. At the very end of the body, a last line may come without one. */
  async line(): Promise<string> {
    for (;;) {
      const cr = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength).indexOf("\r\n");
      if (cr >= 0) {
        const text = Buffer.from(this.buf.subarray(0, cr)).toString("latin1");
        this.buf = this.buf.subarray(cr + 2);
        return text;
      }
      if (this.buf.length > MAX_LINE) throw malformed("line too long");
      if (!(await this.more())) {
        if (this.buf.length) throw malformed("the body ends inside a line");
        return "";
      }
    }
  }

  /** At most `n` bytes, as soon as some are there. */
  async take(n: number): Promise<Uint8Array> {
    if (!this.buf.length && !(await this.more())) throw new S3Error("IncompleteBody", "the body ends inside a chunk");
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  async atEnd(): Promise<boolean> {
    while (!this.buf.length) if (!(await this.more())) return true;
    return false;
  }
}

export interface ChunkedOptions {
  /** Each chunk is signed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD…), chained from `seed`. */
  chunks?: { signer: Signer; seed: string };
  /** Trailing headers follow the last chunk (…-TRAILER). */
  trailer: boolean;
}

/** The bytes of an aws-chunked body; its trailing headers are put in `trailers` (names lower-case) before it ends. */
export async function* decodeChunked(body: AsyncIterable<Uint8Array>, o: ChunkedOptions, trailers: Map<string, string>): AsyncGenerator<Uint8Array> {
  const r = new Reader(body);
  let previous = o.chunks?.seed ?? "";
  for (;;) {
    const [sizeHex, ...extensions] = (await r.line()).split(";");
    if (!/^[0-9a-fA-F]{1,15}$/.test(sizeHex)) throw malformed(`bad chunk size ${JSON.stringify(sizeHex.slice(0, 20))}`);
    let left = parseInt(sizeHex, 16);
    const last = left === 0;
    const hash = o.chunks && createHash("sha256");
    while (left > 0) {
      const bytes = await r.take(left);
      hash?.update(bytes);
      left -= bytes.length;
      yield bytes;
    }
    if (o.chunks) {
      const given = extensions.find((e) => e.startsWith("chunk-signature="))?.slice(16) ?? "";
      const want = signChunk(o.chunks.signer, previous, hash!.digest("hex"));
      if (!sameSignature(given, want)) throw new S3Error("SignatureDoesNotMatch", "a chunk's signature does not match");
      previous = want;
    }
    if (last) break;
    if ((await r.line()) !== "") throw malformed("a chunk is longer than its size");
  }
  let canonical = "";
  let signature: string | undefined;
  for (let line = await r.line(); line !== ""; line = await r.line()) {
    const colon = line.indexOf(":");
    if (colon < 1) throw malformed(`bad trailer ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "x-amz-trailer-signature") signature = value;
    else {
      trailers.set(name, value);
      canonical += `${name}:${value}\n`;
    }
  }
  if (o.chunks && o.trailer && !sameSignature(signature ?? "", signTrailer(o.chunks.signer, previous, canonical))) {
    throw new S3Error("SignatureDoesNotMatch", "the trailer's signature does not match");
  }
  if (!(await r.atEnd())) throw malformed("bytes after the last chunk");
}
