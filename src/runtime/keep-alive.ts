/** The keep-alive pool of node:http calls between kvdb servers: no TCP handshake per request. */
import { Agent } from "node:http";

export const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });
