/**
 * A bare body receiver for bench/receive-probe.ts: every PUT's body written to a new
 * file in batches of 1 MiB with writev, fsynced and removed, md5 on the way or not, as
 * src/volume/receive.ts does, and answered 201. Served by Bun.serve or by the runtime's
 * node:http, so the two ways a body reaches JavaScript can be compared on one machine.
 *   <runtime> bench/receive-server.ts bun.serve|node:http PORT md5|none DIR
 */
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, unlinkSync, writevSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import process from "node:process";

const [server, portText, hashing, dir] = process.argv.slice(2);
let files = 0;

async function store(body: AsyncIterable<Uint8Array>): Promise<number> {
  const path = join(dir, `body-${files++}`);
  const fd = openSync(path, "w");
  const md5 = hashing === "md5" ? createHash("md5") : undefined;
  let size = 0;
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  try {
    for await (const chunk of body) {
      md5?.update(chunk);
      size += chunk.byteLength;
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= 1 << 20) {
        writevSync(fd, batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length) writevSync(fd, batch);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
  md5?.digest("hex");
  return size;
}

const port = Number(portText);
if (server === "bun.serve") {
  const bun = (globalThis as { Bun?: { serve(o: object): unknown } }).Bun;
  if (!bun) throw new Error("bun.serve needs Bun");
  bun.serve({
    port,
    hostname: "127.0.0.1",
    maxRequestBodySize: 2 ** 40,
    async fetch(req: Request) {
      const size = req.body ? await store(req.body as unknown as AsyncIterable<Uint8Array>) : 0;
      return new Response(String(size), { status: 201 });
    },
  });
} else {
  createServer((req, res) => {
    store(req).then(
      (size) => res.writeHead(201).end(String(size)),
      (e: Error) => res.writeHead(500).end(e.message),
    );
  }).listen(port, "127.0.0.1");
}
console.log(`listening on ${port}`);
