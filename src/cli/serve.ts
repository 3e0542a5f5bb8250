/** Running a server until SIGINT/SIGTERM. */
import process from "node:process";
import type { Running } from "../http/running.ts";

/** Keeps a server up until SIGINT/SIGTERM, then closes it gracefully and exits 0. */
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
}

