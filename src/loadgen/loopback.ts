/** Is a URL's host this machine? The bench sends load to loopback only unless told otherwise. */
import { isIP } from "node:net";

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:(127\.|7f)/.test(h) || h === "0:0:0:0:0:0:0:1";
  return false;
}
