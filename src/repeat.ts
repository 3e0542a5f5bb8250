/** A background pass run again and again (the master's janitor, S3's upload expiry). */
import { logger } from "./observe/logger.ts";

/** Runs `pass` every `ms` (the next one `ms` after the last ends; a failure is logged) until the returned function is called. */
export function repeat(label: string, ms: number, pass: () => Promise<void>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout>;
  const loop = () => {
    timer = setTimeout(async () => {
      await pass().catch((e) => logger(label).error((e as Error).message, { cause: (e as Error).stack }));
      if (!stopped) loop();
    }, ms);
    timer.unref?.();
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
