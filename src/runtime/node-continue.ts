/**
 * `Expect: 100-continue` on Node's server (and Bun's node:http): `100 Continue` goes out
 * when the app first reads the body, as Deno.serve does, not on arrival as Node does
 * by default. So an answer given from the headers alone (the master's 307 to a volume
 * for a large PUT: master/direct-write.ts, or a 409) reaches the client before it sends
 * a byte; Node then closes the connection, the body unsent.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { MeteredIncoming } from "./node-meter.ts";

/** The answer of a request whose `100 Continue` is still owed. */
const owed = new WeakMap<IncomingMessage, ServerResponse>();

const read = MeteredIncoming.prototype._read;
MeteredIncoming.prototype._read = function (this: MeteredIncoming, n: number) {
  const res = owed.get(this);
  if (res) {
    owed.delete(this);
    // Reading after the answer started is Node draining an unread body: no 100 then.
    if (!res.headersSent) res.writeContinue();
  }
  return read.call(this, n);
};

/** Serves requests that expect 100-continue with `listener` too, the 100 sent on the first read of the body. */
export function continueOnRead(server: Server, listener: RequestListener): Server {
  return server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    owed.set(req, res);
    listener(req, res);
  });
}
