/**
 * Certificates for the TLS tests, made by `openssl` in the test's directory: a CA, and
 * server certificates it issues for 127.0.0.1 and localhost (subjectAltName), EC P-256
 * keys so that making them takes milliseconds.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pem {
  cert: string;
  key: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A self-signed CA named `name`: its certificate and key files in `dir`. */
export function makeCa(dir: string, name: string): Pem {
  const pem = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", pem.key, "-out", pem.cert, "-days", "2", "-subj", `/CN=${name}`);
  return pem;
}

/** A server certificate for 127.0.0.1 and localhost, issued by `ca`, with the common name `name` (tests tell certificates apart by it). */
export function issue(dir: string, ca: Pem, name: string): Pem {
  const pem = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", pem.key, "-out", csr, "-subj", `/CN=${name}`);
  openssl(dir, "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", pem.cert, "-days", "2", "-extfile", ext);
  return pem;
}

/** Copies `from`'s files over `to`'s: a certificate renewed in place. */
export function replace(to: Pem, from: Pem): void {
  copyFileSync(from.cert, to.cert);
  copyFileSync(from.key, to.key);
}
