/**
 * Direct writes: the master leaves the data path for large values. A PUT or POST whose
 * declared length is over --direct-threshold and that sent `Expect: 100-continue` is
 * answered before any body byte with a 307 to a signed write URL on the first volume
 * of the key's placement (wire/direct-wire.ts has the exchange). That volume takes the
 * body, streams it to the other replicas at once and calls back here: begin (the URL
 * is used up), then commit or abort. The record is `writing` from the 307, naming the
 * replicas' volumes and the write's terms (direct-terms.ts), so whatever happens to the
 * volume or to this master, the janitor undoes what never committed. The replicas have a
 * name of their own (keys/names.ts, as an S3 write's): a volume that goes on writing
 * after its write was undone, or that cleans up after it, never touches another write's.
 */
import { randomBytes } from "node:crypto";
import { Hono, type Context } from "hono";
import type { DeclaredMd5 } from "../wire/content-md5.ts";
import { MASTER_STEP, termsQuery, type Step } from "../wire/direct-wire.ts";
import { KvdbError, nothingStored } from "../errors.ts";
import { fail } from "../http/errors.ts";
import { requireSignature } from "../signing/auth.ts";
import { rawPath } from "../runtime/request.ts";
import { parseKey } from "../keys/keys.ts";
import { versionName } from "../keys/names.ts";
import type { DeclaredLength } from "../wire/content-length.ts";
import { BEGUN, CREATED, deadlineFor, startWindow } from "./direct-terms.ts";
import { changesOf, type KeyRecord } from "./index/index.ts";
import { createForWrite, KEY_EXISTS } from "./in-flight.ts";
import { addressOf } from "../wire/address.ts";
import type { Master } from "./master.ts";
import { purge } from "./replicas.ts";
import { candidatesFor, owedOn } from "./write-policy.ts";

/** Whether this write goes direct: a length over the threshold, and a client that waits for 100 Continue before it sends the body. */
export function goesDirect(m: Master, c: Context, declared: DeclaredLength): declared is { kind: "length"; bytes: number } {
  return m.directThreshold !== undefined && declared.kind === "length" && declared.bytes > m.directThreshold && c.req.header("expect")?.toLowerCase() === "100-continue";
}

/** The 307, once `key` is free (the caller holds it, its old record cleared). */
export async function redirect(m: Master, c: Context, key: string, bytes: number, md5: DeclaredMd5): Promise<Response> {
  const volumes = candidatesFor(m, key, bytes).slice(0, m.replicas);
  const now = Date.now();
  const token = randomBytes(16).toString("base64url");
  const declared = md5.kind === "md5" ? md5.hex : undefined;
  // The declared length and md5 wait in the record for the commit to check.
  const startMs = startWindow(m.client.ttlSeconds);
  const direct = { token, deadline: deadlineFor(now, startMs, bytes, m.client.timeoutMs) };
  const blob = versionName(key);
  await createForWrite(m, key, { state: "writing", volumes, size: bytes, md5: declared ?? "", time: now, blob, direct });
  // The volume calls back the address the client reached this master at (https:// if over TLS).
  const master = addressOf(c.req.header("host") ?? "", new URL(c.req.url).protocol === "https:");
  const replicas = volumes.slice(1).map((v) => m.client.address(v));
  const terms = { token, size: bytes, replicas, master, timeoutMs: m.client.timeoutMs, min: m.minReplicas };
  const location = m.client.directUrl(volumes[0], blob, c.req.method, termsQuery(terms), Math.ceil(startMs / 1000));
  return c.body(null, 307, { location, "content-length": "0" });
}

/** POST /_kvdb/direct/<key>?token&step=…: the volume's steps of a direct write. */
export function directSteps(m: Master): Hono {
  const app = new Hono();
  if (m.secret) app.use(requireSignature([m.secret], true));
  app.post("*", async (c) => {
    const parsed = parseKey(rawPath(c).slice(MASTER_STEP.length));
    if ("error" in parsed) return fail(c, 400, parsed.error);
    const key = parsed.key;
    const token = c.req.query("token") ?? "";
    const step = c.req.query("step") as Step;
    if (step !== "begin" && step !== "commit" && step !== "abort") return fail(c, 400, "step must be begin, commit or abort");
    // No key lock: a PUT or DELETE waiting for this write holds it here (in-flight.ts).
    // Every step is a compare-and-set on the record, as the janitor's undo is.
    const record = await m.index.get(key);
    if (step === "begin") return begin(m, c, key, token, record);
    if (step === "commit") return commit(m, c, key, token, record);
    if (ours(record, token, BEGUN)) await purge(m, key, record!);
    return c.body(null, 204);
  });
  return app;
}

/** Whether `record` is the direct write of `token`, begun or not as `changes` says. */
function ours(record: KeyRecord | undefined, token: string, changes: number): boolean {
  return record?.state === "writing" && record.direct?.token === token && changesOf(record.version) === changes;
}

async function begin(m: Master, c: Context, key: string, token: string, record: KeyRecord | undefined): Promise<Response> {
  if (record?.state === "live") return fail(c, 409, KEY_EXISTS);
  if (!ours(record, token, CREATED)) return fail(c, 403, "this write URL was used already, or its write was undone: PUT to the master again");
  if (Date.now() > record!.time + startWindow(m.client.ttlSeconds)) return fail(c, 403, "this write URL came too late: PUT to the master again");
  // A compare-and-set: of two uses of one URL, one begins.
  if (!(await m.index.setState(key, record!, "writing"))) return fail(c, 403, "this write URL was used already: PUT to the master again");
  return c.body(null, 204);
}

async function commit(m: Master, c: Context, key: string, token: string, record: KeyRecord | undefined): Promise<Response> {
  if (!ours(record, token, BEGUN)) throw nothingStored(new KvdbError("unavailable", "the write was undone before it committed (too late, or taken over)"));
  const size = Number(c.req.query("size"));
  const md5 = c.req.query("md5") ?? "";
  // The replicas that hold it: the first volume and those the volume names by the
  // addresses the terms gave (all, without `held`); a name not among them fails the check below.
  const held = c.req.query("held");
  const named = (address: string) => record!.volumes.find((v) => m.client.address(v) === address) ?? address;
  const volumes = held === undefined ? record!.volumes : [record!.volumes[0], ...held.split(",").filter(Boolean).map(named)];
  const wrong =
    size !== record!.size ? `body of ${size} bytes, ${record!.size} declared`
    : record!.md5 && record!.md5 !== md5 ? `Content-MD5 mismatch: the body's md5 is ${md5}, Content-MD5 says ${record!.md5}`
    : volumes.length < m.minReplicas || volumes.some((v) => !record!.volumes.includes(v)) ? `${volumes.length} replicas held (${volumes.join(",")}), ${m.minReplicas} needed of ${record!.volumes.join(",")}`
    : undefined;
  if (wrong) {
    await purge(m, key, record!).catch(() => {});
    throw nothingStored(new KvdbError("invalid", wrong));
  }
  if (Date.now() > record!.direct!.deadline) {
    await purge(m, key, record!).catch(() => {});
    throw nothingStored(new KvdbError("unavailable", "the write took longer than its deadline"));
  }
  // At least --min-replicas hold it (placed at the 307 on the volumes up then, less
  // those that failed since): the rest are owed, and the failed ones' replicas a delete.
  const failed = record!.volumes.filter((v) => !volumes.includes(v));
  const live = await m.index.commit(key, record!, { state: "live", volumes, size, md5, time: Date.now(), blob: record!.blob, ...owedOn(m, volumes) }, failed);
  if (!live) throw nothingStored(new KvdbError("unavailable", "another master took the key over"));
  return c.json({ volumes: live.volumes }, 201);
}
