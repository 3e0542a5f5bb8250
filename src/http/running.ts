/** A started server, as every role's start function returns it. */
export interface Running {
  url: string;
  port: number;
  /** A master's S3 endpoint, when it serves one. */
  s3?: string;
  close(): Promise<void>;
}

/** The URL to print and hand out for a listen address; https:// when serving TLS. */
export function urlOf(hostname: string, port: number, secure = false): string {
  return `${secure ? "https" : "http"}://${hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname}:${port}`;
}
