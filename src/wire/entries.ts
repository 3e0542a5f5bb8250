/**
 * POST /_kvdb/entries: verify --quick's view of a volume (volume/entries.ts answers it,
 * the master's volume client asks): what its catalog says of many replicas at once,
 * and whether each one's bytes are there, without reading them.
 *   body: a JSON array of up to MAX_NAMES stored names
 *   200 with a JSON array, in the same order, of HeldReplica
 */

/** Names per request: the answer stays a few tens of KiB. */
export const MAX_NAMES = 1024;

/**
 * One replica as its volume holds it: the md5 the catalog recorded when it was written
 * and the size the bytes have now (the file's length, or the inline bytes'); null for
 * one not held (no catalog entry, or its file or inline bytes are gone).
 */
export type HeldReplica = { size: number; md5: string } | null;
