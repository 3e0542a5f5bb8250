/**
 * A server's address as kvdb servers pass it to each other (a volume's replicas and
 * sources, the master a direct write reports to): `host:port` for plain HTTP, as always,
 * or `https://host:port` for a server that serves TLS (--tls-cert). Plain addresses
 * stay as they were, so an older volume reads what a newer master sends it.
 */

/** `host:port` or `https://host:port`. */
export const ADDRESS = /^(https:\/\/)?[^\s/:?#@]+:\d{1,5}$/;

/** The address of the server `name` (host:port): with https:// if it serves TLS. */
export function addressOf(name: string, secure: boolean): string {
  return secure ? `https://${name}` : name;
}

/** The origin to call an address at: http:// unless it says https://. */
export function originOf(address: string): string {
  return address.startsWith("https://") ? address : `http://${address}`;
}
