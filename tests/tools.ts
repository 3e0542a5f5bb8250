/**
 * The command-line S3 clients of the tools tests (s3-tools.test.ts, s3-copy-tools.test.ts)
 * as installed from Debian (.ci/run installs them), against a `kvdb server` process.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { HOST, spawnKvdb, type KvdbServer } from "../harness/kvdb.ts";
import { tempDir } from "../harness/paths.ts";

export const KEYS = { KVDB_S3_ACCESS_KEY: "TOOLSACCESSKEY", KVDB_S3_SECRET_KEY: "tools-secret-key" };
/** Debian's programs, not whatever else is first on the PATH. */
const AWS = "/usr/bin/aws";
export const PYTHON = "/usr/bin/python3";

/** A `kvdb server` in a fresh directory, its S3 endpoint. */
export async function startToolServer(name: string): Promise<{ server: KvdbServer; endpoint: string; dir: string }> {
  const dir = tempDir(name);
  const server = await spawnKvdb(["server", join(dir, "data"), "--port", "0", "--host", HOST], KEYS);
  const port = /s3=http:\/\/[^\s:]+:(\d+)/.exec(server.output())![1];
  return { server, endpoint: `http://${HOST}:${port}`, dir };
}

/** This process's environment less any AWS_* setting (a profile, a CA bundle rclone cannot load): the tests give each tool all it needs. */
function toolEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
}

export function run(command: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(command, args, { env: { ...toolEnv(), ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
    p.stdin.end(input ?? "");
  });
}

export interface Aws {
  /** The AWS CLI with the server's credentials, path-style, in a region of its own choosing; it must exit 0. */
  aws(...args: string[]): Promise<string>;
  awsRun(...args: string[]): Promise<{ code: number; out: string; err: string }>;
}

/** The AWS CLI against `endpoint`, its config files in `dir`. */
export function awsCli(endpoint: string, dir: string): Aws {
  const awsRun = (...args: string[]) => {
    const env = {
      AWS_ACCESS_KEY_ID: KEYS.KVDB_S3_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: KEYS.KVDB_S3_SECRET_KEY,
      AWS_DEFAULT_REGION: "eu-central-1",
      AWS_CONFIG_FILE: join(dir, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "aws-credentials"),
    };
    writeFileSync(env.AWS_CONFIG_FILE, "[default]\ns3 =\n  addressing_style = path\n");
    return run(AWS, ["--endpoint-url", endpoint, ...args], env);
  };
  return {
    awsRun,
    async aws(...args) {
      const r = await awsRun(...args);
      assert.is(r.code, 0, `aws ${args.join(" ")}: ${r.err}${r.out}`);
      return r.out;
    },
  };
}
