/** Running a server until SIGINT/SIGTERM; SIGHUP reloads its certificates. */
import process from "node:process";
import type { Running } from "../http/running.ts";
import { reloadCertificates, servingTls } from "../runtime/tls.ts";

/**
 * Keeps a server up until SIGINT/SIGTERM, then closes it gracefully and exits 0. A
 * server with --tls-cert reads its certificate files again on SIGHUP; one without
 * leaves SIGHUP alone (it ends the process, as before).
 */
export async function serveUntilSignal(start: Promise<Running>): Promise<void> {
  const running = await start;
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    await running.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (servingTls()) process.on("SIGHUP", () => void reloadCertificates());
}

