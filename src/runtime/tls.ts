/**
 * TLS, for every runtime alike (docs/SECURITY.md, "TLS"): the certificate a server
 * presents (--tls-cert/--tls-key, read again on SIGHUP) and the CA certificates its own
 * calls trust besides the system's (--tls-ca). Each runtime adapter serves with the
 * certificate its own way (node.ts, deno.ts) and registers how it takes a new one here.
 */
import { readFileSync } from "node:fs";
import { createSecureContext, rootCertificates } from "node:tls";
import { logger } from "../observe/logger.ts";

/** Where a server's certificate (PEM, its chain after it) and private key are. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** A certificate and its key, read and checked. */
export interface Certificate {
  cert: string;
  key: string;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`tls: cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Reads the certificate and key and checks they are PEM and belong together (one clear error if not). */
export function readCertificate(files: TlsFiles): Certificate {
  const pair = { cert: read(files.cert, "certificate"), key: read(files.key, "key") };
  try {
    createSecureContext(pair); // Node and Bun refuse a key that is not the certificate's here (Deno: deno.ts)
  } catch (e) {
    throw notAPair(files, e);
  }
  return pair;
}

/** The error of a certificate and key that do not belong together. */
export function notAPair(files: TlsFiles, e: unknown): Error {
  return new Error(`tls: the certificate ${files.cert} and key ${files.key} do not make a pair: ${(e as Error).message}`);
}

/** The CA certificates (PEM) that calls to https:// servers trust besides the system's, if --tls-ca named some. */
export let trustedCa: string | undefined;

/** --tls-ca: trust the CA certificates in `file` for this process's calls. */
export function trustCa(file: string): void {
  trustedCa = read(file, "CA file");
}

/** What node:https calls trust: the system's roots and --tls-ca's (Node's `ca` replaces the roots otherwise). */
export function trustedRoots(): string[] | undefined {
  return trustedCa === undefined ? undefined : [...rootCertificates, trustedCa];
}

/** Takes the certificate files anew, for each TLS listener of the process. */
const reloads = new Set<() => Promise<void>>();

/** Registers a listener's reload; the returned function unregisters it (on close). */
export function onReload(reload: () => Promise<void>): () => void {
  reloads.add(reload);
  return () => reloads.delete(reload);
}

/** Whether a listener of this process serves TLS. */
export function servingTls(): boolean {
  return reloads.size > 0;
}

const log = logger("tls");

/**
 * SIGHUP: every TLS listener reads its certificate files again. A pair that cannot be
 * read or does not match is logged and the listener keeps the certificate it has.
 */
export async function reloadCertificates(): Promise<void> {
  let reloaded = 0;
  for (const reload of reloads) {
    try {
      await reload();
      reloaded++;
    } catch (e) {
      log.error(`certificate not reloaded, the previous one stays: ${(e as Error).message}`);
    }
  }
  if (reloaded) log.info("certificates reloaded", { listeners: reloaded });
}
