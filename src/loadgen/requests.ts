/**
 * The requests a workload is made of, each timed into its Step and checked against
 * what the API promises (the README's request table). A failure is counted with a one-line reason; the
 * functions never throw.
 */
import type { Value } from "./data.ts";
import type { HttpClient, Reply } from "./http-client.ts";
import { isLoopbackHost } from "./loopback.ts";
import type { Step } from "./stats.ts";

export interface Target {
  http: HttpClient;
  master: URL;
  allowRemote: boolean;
  /** Stall timeout of each request. */
  idleMs: number;
  /** See BenchOptions.expectOver. */
  expectOver?: number;
}

const header = (r: Reply, name: string) => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function why(what: string, key: string, r: Reply, expected: string): string {
  const said = r.error ?? r.text.trim().split("\n")[0].slice(0, 120);
  return `${what} ${key}: ${r.status ? `answered ${r.status}` : "no answer"}${said ? ` (${said})` : ""}, expected ${expected}`;
}

/** The value's md5 must match the server's Content-Md5, when it sends one (minikeyvalue's PUT does not). */
function md5Problem(r: Reply, value: Value): string | undefined {
  const md5 = header(r, "content-md5");
  return md5 !== undefined && md5 !== value.md5() ? `Content-Md5 ${md5}, but the value's md5 is ${value.md5()}` : undefined;
}

/** Where a redirect points, or what is wrong with it (no URL, not http, off this machine without --allow-remote). */
function redirectTarget(t: Target, r: Reply): URL | string {
  const location = header(r, "location");
  const url = location !== undefined && URL.canParse(location, t.master) ? new URL(location, t.master) : undefined;
  if (url === undefined) return `Location ${JSON.stringify(location)} is not a URL`;
  if (url.protocol !== "http:" && url.protocol !== "https:") return `Location ${url.href} is not http:// or https://`;
  if (!t.allowRemote && !isLoopbackHost(url.hostname)) return `redirected off this machine to ${url.host} (--allow-remote to follow)`;
  return url;
}

/** What is wrong with an answer: not the `expected` one (`accepted` false), or a Content-Md5 that is not `value`'s. */
function replyProblem(what: string, key: string, r: Reply, accepted: boolean, expected: string, value?: Value): string | undefined {
  if (r.error || !accepted) return why(what, key, r, expected);
  const bad = value && md5Problem(r, value);
  return bad ? `${what} ${key}: ${bad}` : undefined;
}

/**
 * PUT the value (Content-Length, streamed beyond 1 MiB); 2xx (kvdb: 201) expected. A
 * body over --expect-over is offered with `Expect: 100-continue`, and a 307/308 (a
 * direct write) followed once to its Location, as `curl -L -T` does.
 */
export async function put(t: Target, step: Step, value: Value): Promise<boolean> {
  const t0 = step.begin();
  const expectContinue = t.expectOver !== undefined && value.size > t.expectOver;
  let r = await t.http.send({ method: "PUT", url: new URL(value.key, t.master), body: value, idleMs: t.idleMs, expectContinue });
  if (r.status === 307 || r.status === 308) {
    const to = redirectTarget(t, r);
    if (typeof to === "string") {
      step.fail(`PUT ${value.key}: ${to}`);
      return false;
    }
    r = await t.http.send({ method: "PUT", url: to, body: value, idleMs: t.idleMs, expectContinue });
  }
  const problem = replyProblem("PUT", value.key, r, r.status >= 200 && r.status <= 299, "201", value);
  if (problem) {
    step.fail(problem);
    return false;
  }
  if (r.sentAt !== undefined && r.answeredAt !== undefined && r.answeredAt >= r.sentAt) step.tail(r.answeredAt - r.sentAt);
  step.ok(t0, value.size);
  return true;
}

/**
 * GET the key from the master without following: a redirect (kvdb: 302) with a
 * Location, whose URL is returned. A master that serves the body itself (--proxy)
 * answers 200: the body is checked here and "served" returned.
 */
export async function locate(t: Target, step: Step, value: Value): Promise<URL | "served" | undefined> {
  const t0 = step.begin();
  const check = value.checker();
  const r = await t.http.send({ method: "GET", url: new URL(value.key, t.master), check, idleMs: t.idleMs });
  const location = header(r, "location");
  const redirected = r.status >= 301 && r.status <= 308 && !!location;
  const problem = replyProblem("GET", value.key, r, r.status === 200 || redirected, "302 with a Location", value);
  if (problem) {
    step.fail(problem);
    return undefined;
  }
  if (r.status === 200) {
    if (!check.ok) {
      step.fail(`GET ${value.key}: ${check.problem}`);
      return undefined;
    }
    step.ok(t0, value.size);
    return "served";
  }
  const url = redirectTarget(t, r);
  if (typeof url === "string") {
    step.fail(`GET ${value.key}: ${url}`);
    return undefined;
  }
  step.ok(t0);
  return url;
}

/** GET the redirect's target: 200 and exactly the value's bytes. */
export async function read(t: Target, step: Step, value: Value, url: URL): Promise<boolean> {
  const t0 = step.begin();
  const check = value.checker();
  const r = await t.http.send({ method: "GET", url, check, idleMs: t.idleMs });
  if (r.error || r.status !== 200) {
    step.fail(why("GET", url.href, r, "200"));
    return false;
  }
  if (!check.ok) {
    step.fail(`GET ${url.href}: ${check.problem}`);
    return false;
  }
  step.ok(t0, r.bytes);
  return true;
}

/** GET from the master, following its redirect, and check the bytes: true if both went right. */
export async function fetchValue(t: Target, get: Step, readStep: Step, value: Value): Promise<boolean> {
  const url = await locate(t, get, value);
  if (url === "served") return true;
  return url !== undefined && (await read(t, readStep, value, url));
}

/** GET without following: `expected` status (302 for a key, 404 for an absent one). */
export async function getStatus(t: Target, step: Step, value: Value, expected: number): Promise<boolean> {
  const t0 = step.begin();
  const r = await t.http.send({ method: "GET", url: new URL(value.key, t.master), idleMs: t.idleMs });
  const redirect = expected === 302;
  const accepted = r.status === expected && (!redirect || !!header(r, "location"));
  const problem = replyProblem("GET", value.key, r, accepted, redirect ? "302 with a Location" : String(expected), redirect ? value : undefined);
  if (problem) {
    step.fail(problem);
    return false;
  }
  step.ok(t0);
  return true;
}

/** DELETE the key: 2xx (kvdb: 204; 202 if a volume is down). */
export async function remove(t: Target, step: Step, key: string): Promise<boolean> {
  const t0 = step.begin();
  const r = await t.http.send({ method: "DELETE", url: new URL(key, t.master), idleMs: t.idleMs });
  if (r.error || r.status < 200 || r.status > 299) {
    step.fail(why("DELETE", key, r, "204"));
    return false;
  }
  step.ok(t0);
  return true;
}
