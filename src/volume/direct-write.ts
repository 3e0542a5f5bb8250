/**
 * A direct write's body (wire/direct-wire.ts; the master's side: master/direct-write.ts).
 * The client sends it here, to the first volume of the key's placement, after a 307
 * from the master. Before reading a byte, the volume has the master use up the write
 * URL (begin). Then it streams the body once, to its own store and to each other
 * replica's volume (their ordinary PUT) at once, each chunk to all before the next is
 * read, so the slowest replica paces the client as the master's replicate.ts does.
 * The bytes are hashed once, here as they pass; every replica (this one's store too)
 * records that md5, the others getting it as a trailer after the last byte
 * (wire/direct-wire.ts's MD5_TRAILER; docs/VOLUME-STORAGE.md says what each checks).
 * Once every replica is fsynced and all agree on size and md5, the master commits;
 * only then does the client get its 201, with the headers the master would give.
 * Another replica's volume that fails is left behind while the terms' `min` replicas
 * remain (the master's --min-replicas): the commit names those that hold the value, and
 * the master records the rest as owed. This volume's own store failing fails the write.
 * Any failure: every replica is deleted (the master's abort deletes them too, and
 * records those it cannot reach) and the client gets the status the master would give.
 */
import { createHash } from "node:crypto";
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { declaredLength, overLimit } from "../wire/content-length.ts";
import { MASTER_STEP, MD5_TRAILER, termsOf, VOLUME_WRITE, type Step, type WriteTerms } from "../wire/direct-wire.ts";
import { answerText, nothingStored } from "../errors.ts";
import { fail, HttpError } from "../http/errors.ts";
import { rawPath, requestBody } from "../runtime/request.ts";
import { urlOn } from "../signing/signing.ts";
import { EarlyAnswer, upload, type OutgoingBody } from "../wire/outgoing-body.ts";
import { ownerOf, parseStoredName } from "../keys/names.ts";
import { runtime } from "../runtime/mod.ts";
import { Feed } from "./feed.ts";
import type { Written } from "./receive.ts";
import type { Store } from "./store.ts";

/** How long a URL this volume signs (a replica's PUT, a step at the master) stays good. */
const TTL_SECONDS = 60;

export function directWriteRoute(app: Hono, store: Store, secret: string | undefined, maxSize: number | undefined): void {
  app.on(["PUT", "POST"], `${VOLUME_WRITE}/*`, async (c) => {
    const parsed = parseStoredName(rawPath(c).slice(VOLUME_WRITE.length));
    if ("error" in parsed) return fail(c, 400, parsed.error);
    // With a secret, requireSignature checked the URL's signature and expiry; either
    // way, the master refuses to begin a write whose URL came too late.
    const terms = termsOf(new URL(c.req.url).searchParams);
    if (typeof terms === "string") return fail(c, 400, terms);
    const declared = declaredLength(c);
    if (declared.kind === "invalid") return fail(c, 400, "invalid Content-Length");
    if (declared.kind !== "length" || declared.bytes === 0) return fail(c, 411, "a direct write needs its Content-Length");
    if (declared.bytes !== terms.size) return fail(c, 400, `Content-Length ${declared.bytes} is not the ${terms.size} bytes the write URL is for`);
    const tooLarge = overLimit(declared, maxSize); // defence in depth behind the master's check
    if (tooLarge) return fail(c, 413, tooLarge);
    if (terms.size > (await store.space.room()).free) return fail(c, 507, answerText(nothingStored(new Error("not enough free space on this volume"))));
    return new DirectWrite(store, secret, parsed.key, terms).run(c);
  });
}

class DirectWrite {
  /** The key the stored name belongs to: what the master's steps name. */
  private readonly key: string;

  constructor(
    private readonly store: Store,
    private readonly secret: string | undefined,
    private readonly name: string,
    private readonly terms: WriteTerms,
  ) {
    this.key = ownerOf(name);
  }

  async run(c: Context): Promise<Response> {
    const began = await this.step("begin");
    if (began.status !== 204) return fail(c, began.status as ContentfulStatusCode, began.text);
    let answer: { status: number; text: string };
    try {
      const { written, held } = await this.fanOut(requestBody(c));
      const committed = await this.step("commit", { size: String(written.size), md5: written.md5, held: held.join(",") });
      if (committed.status === 201) {
        const { volumes } = JSON.parse(committed.text) as { volumes: string[] };
        return c.body(null, 201, { "content-length": "0", "content-md5": written.md5, etag: `"${written.md5}"`, "key-volumes": volumes.join(",") });
      }
      answer = committed;
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      answer = { status: e.status, text: answerText(nothingStored(e)) };
    }
    await this.undo();
    c.header("connection", "close"); // the body may not have been read to its end
    return fail(c, answer.status as ContentfulStatusCode, answer.text);
  }

  /**
   * Stores the body here and on the other replicas; their size and md5, once every one
   * still written is fsynced, and the other replicas' volumes that hold it.
   */
  private async fanOut(body: AsyncIterable<Uint8Array> | null): Promise<{ written: Written; held: string[] }> {
    if (!body) throw new HttpError(411, "empty body");
    const { size: declared, replicas, timeoutMs, min } = this.terms;
    const hash = createHash("md5");
    let md5 = "";
    const local = new Feed();
    const stored = this.store.put(this.name, local, declared, () => {}, undefined, () => md5);
    stored.catch(() => {}); // awaited below
    // A chunked body: the md5 follows it as a trailer. Where the runtime's chunked uploads
    // are slow to read, the others get the length instead and hash the bytes themselves.
    const trailer = runtime.chunkedUploads;
    const headers: Record<string, string> = trailer ? { [MD5_TRAILER]: "trailer", trailer: MD5_TRAILER } : { "content-length": String(declared) };
    const all = replicas.map((volume) => ({ volume, upload: upload(urlOn(volume, this.name, "PUT", this.secret, TTL_SECONDS), headers, timeoutMs) }));
    let others = all;
    const abort = (e: unknown) => {
      local.fail(e);
      for (const o of all) o.upload.abort(e);
    };
    // The other replicas whose step succeeded, while `min` remain with this one; else the first failure.
    const survivors = <T>(steps: PromiseSettledResult<T>[]): T[] => {
      const failed = steps.flatMap((s, i) => (s.status === "rejected" ? [{ o: others[i], e: asHttpError(others[i].volume, s.reason) }] : []));
      if (failed.length && 1 + others.length - failed.length < min) throw failed[0].e;
      for (const { o, e } of failed) o.upload.abort(e);
      others = others.filter((_, i) => steps[i].status === "fulfilled");
      return steps.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    };
    let size = 0;
    try {
      survivors(await Promise.allSettled(others.map((o) => o.upload.ready())));
      for await (const chunk of clientBody(body)) {
        size += chunk.byteLength;
        if (size > declared) throw new HttpError(400, `the body is longer than its declared ${declared} bytes`);
        hash.update(chunk);
        const [mine, ...theirs] = await Promise.allSettled([local.write(chunk).catch(() => stored.then(() => {}, localFailed)), ...others.map((o) => o.upload.write(chunk))]);
        if (mine.status === "rejected") throw mine.reason;
        survivors(theirs);
      }
      if (size < declared) throw new HttpError(400, `body ended after ${size} of ${declared} bytes`);
    } catch (e) {
      abort(e);
      await stored.catch(() => {});
      throw e;
    }
    md5 = hash.digest("hex");
    local.end();
    // Every answer, good or bad, so that no replica is still being written when we clean up.
    const [mine, ...theirs] = await Promise.allSettled([stored.catch(localFailed), ...others.map((o) => answerOf(o.volume, o.upload, trailer ? { [MD5_TRAILER]: md5 } : undefined))]);
    if (mine.status === "rejected") throw mine.reason;
    const held = others;
    const stores = [mine.value, ...survivors(theirs)];
    for (const [i, w] of stores.entries()) {
      if (w.size !== size || w.md5 !== stores[0].md5) throw new HttpError(503, `volume ${i ? held[i - 1].volume : "here"} stored ${w.size} bytes with md5 ${w.md5}, sent ${size} bytes with md5 ${stores[0].md5}`);
    }
    return { written: stores[0], held: held.map((o) => o.volume) };
  }

  /** Deletes every replica this write may have left (best effort: the master's abort deletes them too, and owes what it cannot). */
  private async undo(): Promise<void> {
    const remove = (volume: string) =>
      runtime.call(urlOn(volume, this.name, "DELETE", this.secret, TTL_SECONDS), { method: "DELETE", timeoutMs: this.terms.timeoutMs }).then((r) => r.body?.cancel());
    await Promise.allSettled([this.store.remove(this.name), ...this.terms.replicas.map(remove)]);
    await this.step("abort");
  }

  /** One step at the master; a master that cannot be reached answers 503. */
  private async step(step: Step, more: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const url = urlOn(this.terms.master, MASTER_STEP + this.key, "POST", this.secret, TTL_SECONDS, { token: this.terms.token, step, ...more });
    try {
      const res = await runtime.call(url, { method: "POST", timeoutMs: this.terms.timeoutMs });
      return { status: res.status, text: (await res.text()).trim() };
    } catch (e) {
      const unreachable = new Error(`the master at ${this.terms.master} cannot be reached: ${(e as Error).message}`);
      return { status: 503, text: answerText(nothingStored(unreachable)) };
    }
  }
}

/** The client's body; its breaking off is the client's failure (400), as on the master. */
async function* clientBody(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch (e) {
      throw new HttpError(400, `upload aborted by the client: ${(e as Error).message}`);
    }
    if (next.done) return;
    yield next.value;
  }
}

/** This volume's own store failed: 507 for a full disk, else 503. */
function localFailed(e: unknown): never {
  if ((e as NodeJS.ErrnoException).code === "ENOSPC") throw new HttpError(507, "volume disk full");
  throw new HttpError(503, `this volume failed to store the value: ${(e as Error).message}`);
}

/** Another replica's volume failed: 507 if it said it is full, else 503. */
function asHttpError(volume: string, e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  const status = e instanceof EarlyAnswer && e.status === 507 ? 507 : 503;
  return new HttpError(status, `volume ${volume}: ${(e as Error).message}`);
}

async function answerOf(volume: string, u: OutgoingBody, trailers: Record<string, string> | undefined): Promise<Written> {
  const a = await u.end(trailers).catch((e) => {
    throw asHttpError(volume, e);
  });
  if (a.status !== 201) throw new HttpError(a.status === 507 ? 507 : 503, `volume ${volume} answered ${a.status} ${a.body.trim()}`);
  return JSON.parse(a.body) as Written;
}
