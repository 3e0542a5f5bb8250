/**
 * A bucket's lifecycle configuration (PutBucketLifecycleConfiguration's XML): read and
 * checked as S3 checks it, kept with the bucket (names.ts: Bucket.lifecycle) and written
 * back for GetBucketLifecycleConfiguration in the form it was given. What kvdb does not
 * do is refused, never kept unused: tag filters and transitions answer NotImplemented.
 */
import { randomBytes } from "node:crypto";
import { S3Error } from "./errors.ts";
import { elements, rootOf, textOf } from "./xml-read.ts";
import { el } from "./xml.ts";

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  /** Which objects: those under `prefix`, larger than `larger` and smaller than `smaller` bytes. */
  prefix: string;
  larger?: number;
  smaller?: number;
  /** How the filter was given, to write it back so: a rule's own <Prefix> (S3's old form), <Filter>, or <Filter><And>. */
  form: "prefix" | "filter" | "and";
  /** Expiration: the objects go this many days after they were written, or at this date (ms since the epoch). */
  days?: number;
  date?: number;
  /** Expiration.ExpiredObjectDeleteMarker and NoncurrentVersionExpiration: accepted, and nothing to do (buckets are never versioned). */
  deleteMarker?: boolean;
  noncurrentDays?: number;
  /** AbortIncompleteMultipartUpload.DaysAfterInitiation. */
  abortDays?: number;
}

/** S3's limits. */
const MAX_RULES = 1000;
const MAX_ID = 255;

/** `xml` without its <name>…</name> elements (so a rule's own <Prefix> is not one inside its <Filter>). */
function without(xml: string, ...names: string[]): string {
  return names.reduce((x, name) => x.replace(new RegExp(`<${name}(?:\\s[^>]*)?>[\\s\\S]*?</${name}>|<${name}\\s*/>`, "g"), ""), xml);
}

/** Whether `xml` holds a <name> element (empty ones included). */
const has = (xml: string, name: string) => new RegExp(`<${name}(?:\\s[^>]*)?/?>`).test(xml);

/** The text of the first <name> in `xml`, "" for an empty <name/>; undefined if there is none. */
const optionalText = (xml: string, name: string) => textOf(xml, name) ?? (has(xml, name) ? "" : undefined);

/** A whole number of days (or bytes) at least `min`; InvalidArgument otherwise, in S3's words. */
function whole(text: string | undefined, what: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\s*\d{1,10}\s*$/.test(text) ? Number(text) : NaN;
  if (!(n >= min)) throw new S3Error("InvalidArgument", `${what} must be ${min ? "a positive integer" : "a non-negative integer"}`);
  return n;
}

/** Expiration.Date: ISO 8601 at midnight UTC, as S3 requires. */
function dateOf(text: string): number {
  const m = /^\s*(\d{4}-\d{2}-\d{2})(?:T00:00:00(?:\.0+)?(?:Z|[+-]00:?00))?\s*$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) throw new S3Error("InvalidArgument", "'Date' must be at midnight GMT, in ISO 8601 format");
  return ms;
}

/** The filter of a rule: its own <Prefix>, or its <Filter> (<Prefix>, the object sizes, or <And> of them). */
function filterOf(rule: string): Pick<LifecycleRule, "prefix" | "larger" | "smaller" | "form"> {
  const filter = elements(rule, "Filter")[0] ?? (has(rule, "Filter") ? "" : undefined);
  const own = optionalText(without(rule, "Filter"), "Prefix");
  if ((filter === undefined) === (own === undefined)) throw new S3Error("MalformedXML", "a rule needs exactly one of <Prefix> and <Filter>");
  if (filter === undefined) return { prefix: own!, form: "prefix" };
  if (has(filter, "Tag")) throw new S3Error("NotImplemented", "lifecycle rules filtered by object tags are not supported by kvdb (it keeps no tags)");
  const and = elements(filter, "And")[0];
  const terms = and ?? filter;
  const given = ["Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan"].filter((n) => has(terms, n));
  if (and === undefined && given.length > 1) throw new S3Error("MalformedXML", "a <Filter> of more than one condition needs <And>");
  const larger = whole(textOf(terms, "ObjectSizeGreaterThan"), "'ObjectSizeGreaterThan'", 0);
  const smaller = whole(textOf(terms, "ObjectSizeLessThan"), "'ObjectSizeLessThan'", 1);
  if (larger !== undefined && smaller !== undefined && larger >= smaller) throw new S3Error("InvalidArgument", "ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
  return { prefix: optionalText(terms, "Prefix") ?? "", larger, smaller, form: and === undefined ? "filter" : "and" };
}

function ruleOf(rule: string): LifecycleRule {
  if (has(rule, "Transition") || has(rule, "NoncurrentVersionTransition")) {
    // A transition S3 would refuse is refused as S3 refuses it, before kvdb says it has none.
    for (const t of elements(rule, "Transition")) {
      const date = textOf(t, "Date");
      if (date !== undefined) dateOf(date);
      whole(textOf(t, "Days"), "'Days' for Transition action", 0);
    }
    throw new S3Error("NotImplemented", "lifecycle transitions are not supported by kvdb (it has one storage class)");
  }
  const id = textOf(rule, "ID") ?? randomBytes(12).toString("base64url");
  if (id.length > MAX_ID) throw new S3Error("InvalidArgument", `a rule's ID is at most ${MAX_ID} characters`);
  const status = textOf(rule, "Status");
  if (status !== "Enabled" && status !== "Disabled") throw new S3Error("MalformedXML", "a rule's <Status> is Enabled or Disabled");
  const expiration = elements(rule, "Expiration")[0];
  const abort = elements(rule, "AbortIncompleteMultipartUpload")[0];
  const noncurrent = elements(rule, "NoncurrentVersionExpiration")[0];
  const out: LifecycleRule = { id, enabled: status === "Enabled", ...filterOf(without(rule, "Expiration", "AbortIncompleteMultipartUpload", "NoncurrentVersionExpiration")) };
  if (expiration !== undefined) {
    const days = textOf(expiration, "Days");
    const date = textOf(expiration, "Date");
    const marker = textOf(expiration, "ExpiredObjectDeleteMarker");
    if ([days, date, marker].filter((t) => t !== undefined).length !== 1) throw new S3Error("MalformedXML", "<Expiration> holds one of <Days>, <Date> and <ExpiredObjectDeleteMarker>");
    out.days = whole(days, "'Days' for Expiration action", 1);
    if (date !== undefined) out.date = dateOf(date);
    if (marker !== undefined) {
      if (marker !== "true" && marker !== "false") throw new S3Error("MalformedXML", "<ExpiredObjectDeleteMarker> is true or false");
      out.deleteMarker = marker === "true";
    }
  }
  if (abort !== undefined) {
    if (out.larger !== undefined || out.smaller !== undefined) throw new S3Error("InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with an object size filter");
    out.abortDays = whole(textOf(abort, "DaysAfterInitiation") ?? "", "'DaysAfterInitiation'", 1);
  }
  if (noncurrent !== undefined) out.noncurrentDays = whole(textOf(noncurrent, "NoncurrentDays") ?? "", "'NoncurrentDays'", 1);
  if (expiration === undefined && abort === undefined && noncurrent === undefined) throw new S3Error("InvalidRequest", "At least one action needs to be specified in a rule");
  return out;
}

/** PutBucketLifecycleConfiguration's body as rules; MalformedXML, InvalidArgument or NotImplemented as S3 (or kvdb) refuses it. */
export function readLifecycle(body: string): LifecycleRule[] {
  const rules = elements(rootOf(body, "LifecycleConfiguration"), "Rule").map(ruleOf);
  if (rules.length === 0 || rules.length > MAX_RULES) throw new S3Error("MalformedXML", `a lifecycle configuration holds 1 to ${MAX_RULES} rules`);
  const ids = new Set(rules.map((r) => r.id));
  if (ids.size !== rules.length) throw new S3Error("InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule");
  return rules;
}

function filterXml(r: LifecycleRule): string {
  if (r.form === "prefix") return el("Prefix", r.prefix);
  const terms = el("Prefix", r.form === "and" || r.prefix ? r.prefix : undefined) + el("ObjectSizeGreaterThan", r.larger) + el("ObjectSizeLessThan", r.smaller);
  return `<Filter>${r.form === "and" ? `<And>${terms}</And>` : terms}</Filter>`;
}

function ruleXml(r: LifecycleRule): string {
  const date = r.date === undefined ? undefined : new Date(r.date).toISOString().replace(".000Z", "Z");
  const expiration = r.days ?? date ?? r.deleteMarker;
  return (
    "<Rule>" +
    el("ID", r.id) +
    filterXml(r) +
    el("Status", r.enabled ? "Enabled" : "Disabled") +
    (expiration === undefined ? "" : `<Expiration>${el("Days", r.days) + el("Date", date) + el("ExpiredObjectDeleteMarker", r.deleteMarker)}</Expiration>`) +
    (r.noncurrentDays === undefined ? "" : `<NoncurrentVersionExpiration>${el("NoncurrentDays", r.noncurrentDays)}</NoncurrentVersionExpiration>`) +
    (r.abortDays === undefined ? "" : `<AbortIncompleteMultipartUpload>${el("DaysAfterInitiation", r.abortDays)}</AbortIncompleteMultipartUpload>`) +
    "</Rule>"
  );
}

/** GetBucketLifecycleConfiguration's answer body. */
export const lifecycleXml = (rules: LifecycleRule[]) => rules.map(ruleXml).join("");
