/**
 * A direct write on the wire (master/direct-write.ts, volume/direct-write.ts):
 *   client → master  PUT|POST /key with Expect: 100-continue and a large Content-Length
 *   master → client  307, Location: http(s)://<volume>/_kvdb/write/<key>?<WriteTerms>, signed
 *   client → volume  the body (the volume answers 201 or an error, as the master would)
 *   volume → master  POST /_kvdb/direct/<key>?token&step=begin   before it reads a byte: the URL is used up
 *                    POST …&step=commit&size&md5&held            the replicas fsynced (at least `min`): the key goes live
 *                    POST …&step=abort                           it failed: the master deletes every replica
 * Every call to the master is signed with the cluster's secret, if there is one.
 */

/** The volume's route for a direct write's body. */
export const VOLUME_WRITE = "/_kvdb/write";
/** The master's route for a volume's steps of a direct write. */
export const MASTER_STEP = "/_kvdb/direct";

export type Step = "begin" | "commit" | "abort";

/**
 * The first volume hashes a direct write's bytes once; the other replicas' PUTs (a
 * chunked body) carry this header saying "trailer", and the md5 comes as this trailer
 * after the last byte, for their catalog, instead of each hashing the bytes again
 * (docs/VOLUME-STORAGE.md says what each replica checks instead).
 */
export const MD5_TRAILER = "x-kvdb-md5";

/** What the write URL tells the volume (the master signs it: none can be changed with a secret). */
export interface WriteTerms {
  /** One use: the master's record of the write holds it. */
  token: string;
  /** The body's length, as the client declared it. */
  size: number;
  /** The other replicas' volumes, each an address (address.ts: host:port, or https://host:port). */
  replicas: string[];
  /** The address of the master to call back. */
  master: string;
  /** How long a replica's volume may stall (the master's --volume-timeout). */
  timeoutMs: number;
  /**
   * How many replicas, the first volume's included, must hold the value for the write
   * to commit (the master's --min-replicas): another replica's volume that fails is left
   * behind while that many remain, and the commit's `held` names the others that hold it.
   */
  min: number;
}

export function termsQuery(t: WriteTerms): Record<string, string> {
  return { token: t.token, size: String(t.size), replicas: t.replicas.join(","), master: t.master, timeout: String(t.timeoutMs), min: String(t.min) };
}

/** The terms a write URL's query names, or what is wrong with them. */
export function termsOf(q: URLSearchParams): WriteTerms | string {
  const token = q.get("token");
  const size = Number(q.get("size"));
  const timeoutMs = Number(q.get("timeout"));
  const master = q.get("master");
  const replicas = q.get("replicas");
  if (!token || !master || replicas === null) return "a direct write URL needs token, size, replicas, master and timeout";
  if (!Number.isSafeInteger(size) || size <= 0 || !Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) return "invalid size or timeout in the write URL";
  const others = replicas ? replicas.split(",") : [];
  // A URL without `min` (signed by a master before --min-replicas) needs every replica.
  const min = q.has("min") ? Number(q.get("min")) : others.length + 1;
  if (!Number.isSafeInteger(min) || min < 1 || min > others.length + 1) return "invalid min in the write URL";
  return { token, size, replicas: others, master, timeoutMs, min };
}
