/**
 * An answer whose status goes out at once and whose result comes when long work ends:
 * `first`, then a space every `everyMs` (so that no idle timer on the way drops the
 * quiet connection: the servers' own idle timeout, runtime/types.ts, is 60 s), then
 * what `work` resolves to. Used by S3's CompleteMultipartUpload (s3/keep-alive.ts) and
 * by a volume assembling a value (volume/assemble.ts).
 */
export function keptAlive(first: string, work: Promise<string>, everyMs: number): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let gone = false;
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      if (first) ctl.enqueue(enc.encode(first));
      timer = setInterval(() => ctl.enqueue(enc.encode(" ")), everyMs);
      work.then(
        (last) => {
          clearInterval(timer);
          if (gone) return;
          ctl.enqueue(enc.encode(last));
          ctl.close();
        },
        (e) => {
          clearInterval(timer);
          if (!gone) ctl.error(e);
        },
      );
    },
    cancel() {
      gone = true;
      clearInterval(timer); // the client went away; the work itself goes on and finishes
    },
  });
}
