/**
 * How a runtime adapter (node.ts, deno.ts; bun.ts is node.ts) hands each request to a
 * server's code, and counts it. A GET or HEAD that `direct` answers at once never becomes
 * a web Request: the master's redirects and misses (master/read.ts, readDirect), its
 * hottest path, where the app's Request, Response and routing cost as much as the answer
 * (docs/PERFORMANCE.md, "The Node master's redirects"). Every other request goes to the
 * app. Both are counted the same way, by the counter the server passes in
 * (observe/request-metrics.ts): the runtime keeps no metrics of its own.
 */
import type { ExchangeMeter, RequestFacts } from "./request.ts";

/** A whole answer without a body: a redirect, a miss. */
export interface BodylessAnswer {
  status: number;
  headers: Record<string, string>;
}

/**
 * Answers a GET or HEAD of `target` (the request target as sent: path and query) at
 * once, or says undefined and leaves the request to the app, which would answer it the
 * same way. It never throws. `authorization`: the request's Authorization header, for
 * a server that checks credentials (auth/access.ts).
 */
export type Direct = (method: "GET" | "HEAD", target: string, authorization?: string) => BodylessAnswer | undefined;

/** What a server counts of its requests: a request's arrival, then its end or its failure. */
export interface RequestCounter {
  /** A request reached the server's code: in flight until ended() or dropped(). */
  began(): void;
  /**
   * Its answer's last byte was written (or its client left), `seconds` after it began;
   * its body bytes each way as the wire carried them (none sent for a HEAD).
   */
  ended(method: string, status: number, seconds: number, received: number, sent: number): void;
  /** The app threw instead of answering. */
  dropped(): void;
}

/** What the adapter serves: the app's fetch with the request facts (request.ts) as its env. */
export type Fetch = (req: Request, facts: RequestFacts) => Response | Promise<Response>;

export interface Front {
  fetch: Fetch;
  /** `direct`, counted; `meter` is the exchange the answer goes out on. */
  direct?: (method: "GET" | "HEAD", target: string, meter: ExchangeMeter, authorization?: string) => BodylessAnswer | undefined;
}

/**
 * Counts one answer with `status` once the meter says it is written, or at once without
 * a meter (a test's own call), with the lengths `declared` gives.
 */
function count(counter: RequestCounter, method: string, status: number, t0: number, meter: ExchangeMeter | undefined, declared: () => [number, number]): void {
  const done = (received: number, sent: number) => counter.ended(method, status, (performance.now() - t0) / 1000, received, method === "HEAD" ? 0 : sent);
  if (meter) meter.whenDone(() => done(meter.receivedBytes, meter.sentBytes));
  else done(...declared());
}

/**
 * `fetch` and `direct` as the adapter runs them, each request counted by `counter`. The
 * app's answer is counted around its fetch, not by Hono middleware: an answer the app
 * has at once then stays synchronous, and @hono/node-server writes it on its fast path.
 */
export function front(fetch: Fetch, direct: Direct | undefined, counter: RequestCounter): Front {
  const counted: Fetch = (req, facts) => {
    const t0 = performance.now();
    counter.began();
    const answered = (res: Response) => {
      count(counter, req.method, res.status, t0, facts.meter, () => [Number(req.headers.get("content-length") ?? 0), Number(res.headers.get("content-length") ?? 0)]);
      return res;
    };
    const failed = (e: unknown): never => {
      counter.dropped();
      throw e;
    };
    let res: Response | Promise<Response>;
    try {
      res = fetch(req, facts);
    } catch (e) {
      return failed(e);
    }
    return res instanceof Promise ? res.then(answered, failed) : answered(res);
  };
  if (!direct) return { fetch: counted };
  return {
    fetch: counted,
    direct(method, target, meter, authorization) {
      const t0 = performance.now();
      const answer = direct(method, target, authorization);
      if (answer) {
        counter.began();
        count(counter, method, answer.status, t0, meter, () => [0, 0]);
      }
      return answer;
    },
  };
}
