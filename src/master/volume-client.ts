/**
 * Every call the master (and `kvdb rebuild`) makes to a volume, in one place: it
 * signs each URL, sets each call's deadline and lets no answer body dangle.
 *   PUT    /key                  streamed upload of a replica (outgoing-body.ts, replica-stream.ts)
 *   GET    /key                  proxied reads (--proxy); redirect URLs for clients
 *   DELETE /key                  204 deleted, 404 absent (a volume leaving the cluster)
 *   POST   /_kvdb/batch          small replicas' PUTs and every other DELETE, gathered per volume (batches.ts)
 *   POST   /_kvdb/pull/key       volume → volume copy, checked and fsynced
 *   GET    /_kvdb/check/key      re-hash of a stored replica
 *   POST   /_kvdb/entries        many replicas' catalog entries, no byte read (verify --quick)
 *   GET    /_kvdb/list           NDJSON of everything the volume holds
 *   GET    /_kvdb/health         total, free, count
 * Each call resolves with what it asked for or throws a VolumeError (volume-error.ts).
 */
import { encodeFields, someFields, type ValueFields } from "../keys/fields.ts";
import { ndjsonLines } from "../wire/ndjson.ts";
import { urlOn } from "../signing/signing.ts";
import { addressOf } from "../wire/address.ts";
import { runtime } from "../runtime/mod.ts";
import { BATCH_PATH, encodeBatch, MAX_OPS, type BatchOp, type BatchResult } from "../wire/batch-wire.ts";
import { VolumeBatches } from "./batches.ts";
import { VOLUME_WRITE } from "../wire/direct-wire.ts";
import { upload } from "../wire/outgoing-body.ts";
import type { HeldReplica } from "../wire/entries.ts";
import { replicaStream, type ReplicaStream, type Stored } from "./replica-stream.ts";
import { answeredError, VolumeError, volumeError } from "./volume-error.ts";

export type { HeldReplica, ReplicaStream, Stored };

export interface Health {
  total: number;
  free: number;
  count: number;
  /** Where the volume runs (absent from volumes older than this field). */
  runtime?: string;
  version?: string;
}

/** One entry of a volume's list. */
export interface Listed {
  key: string;
  size: number;
  md5: string;
  time: number;
  /** The S3 fields the volume keeps with the value (keys/fields.ts). */
  fields?: ValueFields;
}


const HEALTH_TIMEOUT_MS = 1000;
/** Deleting a replica off a volume leaving the cluster is best effort: never wait long. */
const LEAVING_TIMEOUT_MS = 5000;
/** Slowest rates allowed for whole-value work on a volume, in bytes per ms: copying (~20 MB/s) and re-hashing (~50 MB/s). */
const COPY_RATE = 20_000;
const HASH_RATE = 50_000;
/** A batch's answer: up to MAX_OPS results of ~100 characters. */
const ANSWER_MAX = MAX_OPS * 256;

/**
 * A volume's answer to an assemble, which comes as 201 at once, spaces while it works,
 * then {"status",…} (volume/assemble.ts): as the status and body a PUT would have had.
 */
function assembled(volume: string, a: { status: number; body: string }): Stored {
  const what = "assembling answered";
  if (a.status !== 201) throw answeredError(volume, a.status, a.body, what);
  let answer: { status?: number; error?: string; size: number; md5: string };
  try {
    answer = JSON.parse(a.body) as typeof answer;
  } catch {
    throw new VolumeError(volume, "mismatch", `${what} unreadable: ${a.body.trim().slice(0, 200)}`);
  }
  if (answer.status !== undefined && answer.status !== 201) throw answeredError(volume, answer.status, answer.error ?? "", what);
  return { size: answer.size, md5: answer.md5 };
}

/** A batch's answer to one operation, or the VolumeError it is. */
function batchAnswer(volume: string, r: BatchResult, ok: number[]): BatchResult {
  if (ok.includes(r.status)) return r;
  throw answeredError(volume, r.status, "error" in r ? r.error : "");
}

export class VolumeClient {
  private readonly batches = new VolumeBatches((volume, ops, values) => this.batch(volume, ops, values));

  /**
   * @param secret signs every URL called or handed out; none: plain URLs
   * @param timeoutMs how long a volume may stall (no answer, no progress) before a call fails
   * @param ttlSeconds how long a signed URL stays good (redirects included)
   * @param secure the volumes called over TLS (listed as https://)
   */
  constructor(
    private readonly secret: string | undefined,
    readonly timeoutMs = 30_000,
    readonly ttlSeconds = 60,
    private readonly secure: ReadonlySet<string> = new Set(),
  ) {}

  /** Where `volume` is called, as servers tell each other (wire/address.ts): https://host:port for a TLS volume. */
  address(volume: string): string {
    return addressOf(volume, this.secure.has(volume));
  }

  /** The URL of `path` (a key or a /_kvdb/ path) on a volume, good for `method`. */
  private url(volume: string, path: string, method = "GET", query?: Record<string, string>): string {
    return urlOn(this.address(volume), path, method, this.secret, this.ttlSeconds, query);
  }

  /**
   * Where a client is redirected to read the value stored as `name` (GET or HEAD);
   * `type`: the Content-Type the volume is to answer with (S3 clients set one).
   */
  readUrl(volume: string, name: string, type?: string): string {
    return this.url(volume, name, "GET", type ? { "response-content-type": type } : undefined);
  }

  /**
   * Where a client sends a direct write's body (`method`: its PUT or POST): the volume's
   * write route (wire/direct-wire.ts), good for `ttlSeconds`.
   */
  directUrl(volume: string, key: string, method: string, query: Record<string, string>, ttlSeconds: number): string {
    return urlOn(this.address(volume), VOLUME_WRITE + key, method, this.secret, ttlSeconds, query);
  }

  /** Starts a streamed PUT of a replica; see wire/outgoing-body.ts. */
  upload(volume: string, key: string, headers: Record<string, string>): ReplicaStream {
    return replicaStream(volume, upload(this.url(volume, key, "PUT"), headers, this.timeoutMs));
  }

  /** GET or HEAD of a value, for --proxy: the volume's answer, body streaming. */
  read(volume: string, key: string, method: string, headers: Record<string, string>): Promise<Response> {
    return runtime.call(this.url(volume, key, method), { method, headers, timeoutMs: this.timeoutMs }).catch((e) => {
      throw volumeError(volume, e);
    });
  }

  /**
   * Stores a small value's replica (wire/batch-wire.ts's BATCH_VALUE_MAX at most) in
   * the volume's next batch: what the volume stored, once it is durable.
   */
  async putSmall(volume: string, name: string, bytes: Uint8Array, fields?: ValueFields): Promise<Stored> {
    const encoded = encodeFields(fields);
    const op: BatchOp = encoded ? { put: name, size: bytes.byteLength, fields: encoded } : { put: name, size: bytes.byteLength };
    const answer = await this.batches.run(volume, op, bytes).catch((e) => {
      throw volumeError(volume, e);
    });
    return batchAnswer(volume, answer, [201]) as Stored;
  }

  /** Deletes a replica: resolves once the volume no longer has it (a 404 counts). */
  async delete(volume: string, key: string, leaving = false): Promise<void> {
    const done = [204, 404];
    try {
      if (!leaving) return void batchAnswer(volume, await this.batches.run(volume, { del: key }), done);
      const timeoutMs = Math.min(this.timeoutMs, LEAVING_TIMEOUT_MS);
      const res = await runtime.call(this.url(volume, key, "DELETE"), { method: "DELETE", timeoutMs });
      if (!done.includes(res.status)) throw answeredError(volume, res.status, await res.text());
      await res.body?.cancel();
    } catch (e) {
      throw volumeError(volume, e);
    }
  }

  /**
   * One POST /_kvdb/batch: the volume's answers, or its one answer as every operation's.
   * Through node:http (outgoing-body.ts), not runtime.call: a web Response per call showed in
   * the master's profile, and a batch is most of the master's calls under small writes.
   */
  private async batch(volume: string, ops: BatchOp[], values: Uint8Array[]): Promise<BatchResult[]> {
    const { body, digest } = encodeBatch(ops, values);
    const headers = { "content-type": "application/octet-stream", "content-length": String(body.byteLength) };
    // The answer comes once every value is written and synced.
    const stallMs = this.timeoutMs + body.byteLength / COPY_RATE;
    const call = upload(this.url(volume, BATCH_PATH, "POST", { head: digest }), headers, stallMs, { method: "POST", answerMax: ANSWER_MAX });
    await call.write(body);
    const answer = await call.end();
    if (answer.status === 200) return JSON.parse(answer.body) as BatchResult[];
    const error = `${BATCH_PATH} answered ${answer.status} ${answer.body.trim()}`;
    return ops.map(() => ({ status: answer.status, error }));
  }

  /**
   * Has `target` copy the value from `from`, checked against `size` and `md5` and
   * fsynced before the answer; the VolumeError names `target`.
   */
  async pull(target: string, key: string, from: string, size: number, md5: string): Promise<void> {
    const query = { from: this.address(from), size: String(size), md5 };
    try {
      const res = await runtime.call(this.url(target, `/_kvdb/pull${key}`, "POST", query), {
        method: "POST",
        // The answer comes once the whole value is copied and fsynced.
        timeoutMs: this.timeoutMs + size / COPY_RATE,
      });
      const text = await res.text();
      if (res.status !== 201) throw answeredError(target, res.status, text);
    } catch (e) {
      throw volumeError(target, e);
    }
  }

  /**
   * Has `volume` store under `name` the values `parts` one after the other, each read
   * from its own copy or pulled from one of the part's volumes (volume/assemble.ts),
   * keeping `fields` with it: what it stored, once fsynced.
   */
  async assemble(volume: string, name: string, parts: { name: string; size: number; volumes: string[]; offset?: number }[], fields?: ValueFields): Promise<Stored> {
    const named = parts.map((p) => ({ ...p, volumes: p.volumes.map((v) => this.address(v)) }));
    const body = Buffer.from(JSON.stringify({ parts: named, fields: someFields(fields) }));
    const bytes = parts.reduce((n, p) => n + p.size, 0);
    const headers = { "content-type": "application/json", "content-length": String(body.byteLength) };
    // The answer comes once the whole value is written and fsynced.
    const call = upload(this.url(volume, `/_kvdb/assemble${name}`, "PUT"), headers, this.timeoutMs + bytes / COPY_RATE);
    try {
      await call.write(body);
      return assembled(volume, await call.end());
    } catch (e) {
      throw volumeError(volume, e);
    }
  }

  /** Re-hashes the replica on its volume (`size`: what the index expects, for the deadline): what it holds, or null. */
  async check(volume: string, key: string, size: number): Promise<HeldReplica> {
    try {
      const res = await runtime.call(this.url(volume, `/_kvdb/check${key}`), { timeoutMs: this.timeoutMs + size / HASH_RATE });
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (res.status !== 200) throw answeredError(volume, res.status, await res.text());
      const got = (await res.json()) as Stored;
      return { size: got.size, md5: got.md5 };
    } catch (e) {
      throw volumeError(volume, e);
    }
  }

  /**
   * What the volume's catalog says of each of `names` (at most wire/entries.ts's
   * MAX_NAMES), in order: its md5 and the size its bytes have, or null if not held.
   */
  async entries(volume: string, names: string[]): Promise<HeldReplica[]> {
    const body = new TextEncoder().encode(JSON.stringify(names));
    try {
      const res = await runtime.call(this.url(volume, "/_kvdb/entries", "POST"), {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(body.byteLength) },
        body,
        timeoutMs: this.timeoutMs,
      });
      if (res.status !== 200) throw answeredError(volume, res.status, await res.text(), "/_kvdb/entries answered");
      return (await res.json()) as HeldReplica[];
    } catch (e) {
      throw volumeError(volume, e);
    }
  }

  /** Everything the volume holds, streamed from its catalog. */
  async *list(volume: string): AsyncGenerator<Listed> {
    try {
      const res = await runtime.call(this.url(volume, "/_kvdb/list"), { timeoutMs: this.timeoutMs });
      if (res.status !== 200 || !res.body) {
        await res.body?.cancel();
        throw answeredError(volume, res.status, "", "/_kvdb/list answered");
      }
      for await (const line of ndjsonLines(res.body)) yield JSON.parse(line) as Listed;
    } catch (e) {
      throw volumeError(volume, e);
    }
  }

  async health(volume: string): Promise<Health> {
    try {
      const res = await runtime.call(this.url(volume, "/_kvdb/health"), { timeoutMs: HEALTH_TIMEOUT_MS });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw answeredError(volume, res.status, "", "health answered");
      }
      return (await res.json()) as Health;
    } catch (e) {
      throw volumeError(volume, e);
    }
  }
}
