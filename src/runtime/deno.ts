/** Deno: Deno.serve (with --tls-cert, HTTPS), and Deno's own file streams. */
import { write } from "node:fs";
import { CLOSE_GRACE_MS, type Runtime } from "./types.ts";
import { notAPair, onReload, readCertificate, trustedCa, type Certificate } from "./tls.ts";
import { fetchCall } from "./fetch-client.ts";
import { KvdbError } from "../errors.ts";
import { front } from "./fast-path.ts";
import { StreamMeter } from "./stream-meter.ts";
import type { RequestFacts } from "./request.ts";

interface DenoFile {
  readable: ReadableStream<Uint8Array>;
  seek(offset: number, whence: 0): Promise<number>;
  seekSync(offset: number, whence: 0): number;
  read(buf: Uint8Array): Promise<number | null>;
  close(): void;
}
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?(addr: { port: number }): void; cert?: string; key?: string },
    handler: (req: Request, info: { completed: Promise<void> }) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
  open(path: string): Promise<DenoFile>;
  openSync(path: string): DenoFile;
  errors: { NotFound: new () => Error };
  createHttpClient(options: { caCerts: string[] }): object;
  listenTls(options: { port: number; hostname: string; cert: string; key: string }): { close(): void };
};

/** Deno's fetch trusts more CAs through a client of its own (caCerts: besides the system's). */
let client: { ca: string; client: object } | undefined;
const trust = () => {
  if (trustedCa === undefined) return undefined;
  if (client?.ca !== trustedCa) client = { ca: trustedCa, client: Deno.createHttpClient({ caCerts: [trustedCa] }) };
  return { client: client.client };
};

const CHUNK = 1 << 20;

/** The path and query of an absolute request URL. */
function targetOf(url: string): string {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  return path < 0 ? "/" : url.slice(path);
}

/**
 * Bytes [start, end] of a file that end before its last byte, as a stream of 1 MiB reads
 * (Deno's own readable only reads to EOF). Measured on a 1 GiB file to curl: ~0.6 GB/s,
 * against ~1.5 GB/s for the file's own readable (docs/RUNTIMES.md).
 */
function fileRange(path: string, start: number, end: number): ReadableStream<Uint8Array> {
  let file: DenoFile | null = null;
  let left = end - start + 1;
  return new ReadableStream<Uint8Array>({
    async start() {
      file = await Deno.open(path);
      await file.seek(start, 0);
    },
    async pull(ctl) {
      const buf = new Uint8Array(Math.min(CHUNK, left));
      const n = await file!.read(buf);
      if (n === null || n === 0) throw new Error(`${path} ended early`);
      left -= n;
      ctl.enqueue(n === buf.length ? buf : buf.subarray(0, n));
      if (left === 0) {
        file!.close();
        ctl.close();
      }
    },
    cancel() {
      file?.close();
    },
  });
}

export const deno: Runtime = {
  name: "deno",
  chunkedUploads: false,

  async serve(app, { port, hostname, direct, counter, tls }) {
    const served = front(app.fetch, direct, counter);
    const handler = (req: Request, info: { completed: Promise<void> }) => {
      // completed settles once the answer is delivered or the client is gone: the exchange's end.
      const meter = new StreamMeter(() => info.completed);
      const method = req.method;
      const head = method === "HEAD";
      const answered = served.direct && (head || method === "GET") ? served.direct(method as "GET" | "HEAD", targetOf(req.url), meter, req.headers.get("authorization") ?? undefined) : undefined;
      if (answered) {
        meter.sentNothing(); // read no header back from the Response (Deno builds its Headers on demand)
        return new Response(null, answered);
      }
      const res = served.fetch(req, { meter, body: req.body && meter.received(req.body) } satisfies RequestFacts);
      return res instanceof Promise ? res.then((r) => meter.sent(r, head)) : meter.sent(res, head);
    };
    const listen = (at: number, certificate?: Certificate) => Deno.serve({ port: at, hostname, onListen() {}, ...certificate }, handler);
    let server = listen(port, tls && readCertificate(tls));
    const bound = server.addr.port;
    /** Servers shut down at a reload, finishing their requests (forgotten once done). */
    const retired = new Set<Promise<void>>();
    // Deno.serve cannot take a new certificate in place: the old server stops accepting
    // and finishes its requests (closing its idle connections) while a new one listens on
    // the port at once; a connection attempt in between is refused (docs/SECURITY.md, "TLS").
    const unregister = tls
      ? onReload(async () => {
          const certificate = readCertificate(tls);
          // Deno's node:tls checks no pair (readCertificate's check): a throwaway TLS
          // listener does, before the server that works stops accepting.
          try {
            Deno.listenTls({ port: 0, hostname: "127.0.0.1", ...certificate }).close();
          } catch (e) {
            throw notAPair(tls, e);
          }
          const stopping = server.shutdown();
          retired.add(stopping);
          void stopping.then(() => retired.delete(stopping));
          await new Promise((r) => setTimeout(r, 0)); // the port is free once shutdown began
          server = listen(bound, certificate);
        })
      : () => {};
    return {
      port: bound,
      async close() {
        unregister();
        await Promise.race([Promise.all([server.shutdown(), ...retired]), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS))]);
      },
    };
  },

  sendFile(c, status, headers, slice) {
    if (!slice || c.req.method === "HEAD") return new Response(null, { status, headers });
    if (slice.end !== slice.size - 1) return new Response(fileRange(slice.path, slice.start, slice.end), { status, headers });
    // To the end of the file (every whole value): the file's own readable, which Deno
    // sends from the file without a JavaScript stream in between; it closes the file
    // when it ends or the client goes. Opened synchronously, as the volume's stat was.
    let file: DenoFile;
    try {
      file = Deno.openSync(slice.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new KvdbError("not-found", "blob file missing"); // deleted since the volume's stat
      throw e;
    }
    if (slice.start) file.seekSync(slice.start, 0);
    return new Response(file.readable, { status, headers });
  },

  call: fetchCall(trust),

  async writev(fd, chunks) {
    let total = 0;
    for (const chunk of chunks) {
      const n = await new Promise<number>((resolve, reject) => write(fd, chunk, (e, written) => (e ? reject(e) : resolve(written))));
      total += n;
      if (n < chunk.byteLength) break; // a short write: the caller writes the rest
    }
    return total;
  },
};
