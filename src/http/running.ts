/** A started server, as every role's start function returns it. */
export interface Running {
  url: string;
  port: number;
  /** A master's S3 endpoint, when it serves one. */
  s3?: string;
  close(): Promise<void>;
}

/** The URL to print and hand out for a listen address. */
export function urlOf(hostname: string, port: number): string {
  return `http://${hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname}:${port}`;
}
