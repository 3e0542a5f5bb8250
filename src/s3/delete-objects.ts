/** DeleteObjects (POST /bucket?delete): up to 1000 keys, each deleted on its own, each answered in the XML DeleteResult. */
import { KvdbError } from "../errors.ts";
import { HttpError } from "../http/errors.ts";
import { smallBody } from "./body.ts";
import { deleteCondition } from "./conditions.ts";
import { asS3Error, S3Error } from "./errors.ts";
import { keyOf, requireBucket } from "./names.ts";
import { deleteKey } from "./objects.ts";
import type { Req, S3 } from "./s3.ts";
import { elements, rootOf, textOf } from "./xml-read.ts";
import { el, xmlAnswer } from "./xml.ts";

const MAX_KEYS = 1000;

export async function deleteObjects(s: S3, r: Req): Promise<Response> {
  await requireBucket(s.values, r.bucket);
  const doc = rootOf(await smallBody(r.c, r.payload), "Delete");
  const quiet = textOf(doc, "Quiet")?.trim().toLowerCase() === "true";
  const objects = elements(doc, "Object").map((o) => ({
    object: textOf(o, "Key"),
    version: textOf(o, "VersionId")?.trim(),
    // Each <Object> may carry conditions of its own (as DeleteObject's headers): conditions.ts.
    given: { etag: textOf(o, "ETag"), modified: textOf(o, "LastModifiedTime"), size: textOf(o, "Size") },
  }));
  if (!objects.length || objects.length > MAX_KEYS) throw new S3Error("MalformedXML", `from 1 to ${MAX_KEYS} <Object>s, each with a <Key>`);
  let body = "";
  for (const { object, version, given } of objects) {
    if (object === undefined) throw new S3Error("MalformedXML", "an <Object> without a <Key>");
    try {
      // As app.ts answers ?versionId=: the one version is "null".
      if (version !== undefined && version !== "null") throw new S3Error("NotImplemented", "versions are not supported by kvdb: the only versionId is null");
      await deleteKey(s.values, keyOf(r.bucket, object), deleteCondition(given));
      if (!quiet) body += `<Deleted>${el("Key", object)}</Deleted>`;
    } catch (e) {
      if (!(e instanceof HttpError || e instanceof KvdbError)) throw e;
      const { code, message } = asS3Error(e);
      body += `<Error>${el("Key", object)}${el("Code", code)}${el("Message", message)}</Error>`;
    }
  }
  return xmlAnswer(r.c, "DeleteResult", body);
}
