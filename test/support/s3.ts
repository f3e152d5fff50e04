import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

/** The parts of s3rver (a real S3 API server written in Node, storing objects on disk) the tests use. */
type S3rverServer = {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
};
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets?: { name: string }[];
}) => S3rverServer;

/** s3rver's one account: an unknown access key is refused (InvalidAccessKeyId); it does not check v4 signatures. */
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };

export type S3TestServer = {
  endpoint: string;
  /** Where it keeps its objects on disk (a test tampers with an object there, as someone with bucket access could). */
  directory: string;
  /** The environment a Retrace process needs to archive to this server. */
  env: Record<string, string>;
  stop(): Promise<void>;
};

/** A real S3-compatible HTTP server on a free local port, with the given buckets. */
export async function startS3Server(buckets: string[]): Promise<S3TestServer> {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    directory,
    env: {
      ...S3_CREDENTIALS,
      RETRACE_ARCHIVE_S3_ENDPOINT: endpoint,
      RETRACE_ARCHIVE_S3_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stop: async () => {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
