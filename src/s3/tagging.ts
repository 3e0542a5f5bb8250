/**
 * GetObjectTagging: kvdb keeps no tags (PutObjectTagging and x-amz-tagging answer 501:
 * app.ts), so every object's tag set is empty. Tools ask for it before a copy (the AWS
 * CLI's `s3 cp s3://… s3://…` above its multipart threshold, to carry the tags over).
 */
import { liveRecord } from "./objects.ts";
import type { Req, S3 } from "./s3.ts";
import { xmlAnswer } from "./xml.ts";

export async function getObjectTagging(s: S3, r: Req): Promise<Response> {
  await liveRecord(s.values, r.bucket, r.object);
  return xmlAnswer(r.c, "Tagging", "<TagSet></TagSet>");
}
