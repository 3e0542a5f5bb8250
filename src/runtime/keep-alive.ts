/**
 * The keep-alive pools of node:http(s) calls between kvdb servers: no TCP (or TLS)
 * handshake per request. https:// calls trust --tls-ca besides the system's roots (tls.ts).
 */
import { Agent, request, type ClientRequest, type OutgoingHttpHeaders } from "node:http";
import { Agent as SecureAgent, request as secureRequest } from "node:https";
import { trustedCa, trustedRoots } from "./tls.ts";

export const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

let secure: { agent: SecureAgent; ca: string | undefined } | undefined;

/** The https pool, made again if --tls-ca was read since (it is, once, at start). */
function secureKeepAlive(): SecureAgent {
  if (secure?.ca !== trustedCa) secure = undefined;
  return (secure ??= { agent: new SecureAgent({ keepAlive: true, maxSockets: 256, ca: trustedRoots() }), ca: trustedCa }).agent;
}

/** A request to `url` (http:// or https://) through its keep-alive pool; `answer` gets the response. */
export function callRequest(url: string, method: string, headers: OutgoingHttpHeaders, answer?: Parameters<typeof request>[2]): ClientRequest {
  if (url.startsWith("https:")) return secureRequest(url, { method, headers, agent: secureKeepAlive() }, answer);
  return request(url, { method, headers, agent: keepAlive }, answer);
}
