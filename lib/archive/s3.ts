import http from "node:http";
import https from "node:https";
import { PassThrough, Readable } from "node:stream";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { env } from "../env";
import { Conflict, Invalid, NotFound } from "../errors";
import type { ArchiveLocation, FileSink } from "./location";

/** The bucket or its endpoint refused or could not be reached: says what to fix; the caller keeps what it had. */
export class ArchiveStorageError extends Conflict {}

/** Multipart part size: a partition is streamed to the bucket a part at a time, never held whole in memory. */
const PART_BYTES = 8 * 1024 * 1024;

/** `s3://bucket/prefix` into its bucket and key prefix (no leading or trailing slash). */
export function parseBucketHref(href: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/*(.*?)\/*$/i.exec(href.trim());
  const bucket = match?.[1];
  if (!match || !bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Invalid(`${href} is not an s3://bucket/prefix location (a bucket name is 3-63 of a-z, 0-9, . and -).`);
  }
  return { bucket, prefix: match[2] ?? "" };
}

/**
 * An S3 client for archives, from RETRACE_ARCHIVE_S3_* (lib/env.ts). Credentials come from the AWS SDK's own chain
 * (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role, ...); Retrace never reads or logs
 * them. Checksums are sent only where the S3 API requires them: S3-compatible servers differ on the newer default
 * ones, and the archive carries its own SHA-256 of each file in its signed manifest.
 */
function s3Client(): S3Client {
  const config = env.archiveS3;
  return new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    maxAttempts: config.maxAttempts,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // No keep-alive: an idle socket would keep a finished `retrace archive` command from exiting. A part is 8 MiB,
    // so a connection per request costs little. An endpoint that does not answer is given up after 10 s.
    requestHandler: {
      httpAgent: new http.Agent({ keepAlive: false }),
      httpsAgent: new https.Agent({ keepAlive: false }),
      connectionTimeout: 10_000,
    },
  });
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH"]);

/** An S3 or network error as a message an operator can act on; other errors as they are. */
export function describeS3Error(error: unknown, bucket: string, what: string): Error {
  const endpoint = env.archiveS3.endpoint ?? "AWS S3";
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    if (error.name === "NoSuchBucket") {
      return new ArchiveStorageError(`The bucket "${bucket}" does not exist at ${endpoint} (${what}).`);
    }
    if (
      ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "ExpiredToken"].includes(
        error.name,
      ) ||
      status === 403
    ) {
      return new ArchiveStorageError(
        `Access to the bucket "${bucket}" at ${endpoint} was denied (${error.name}; ${what}): check the ` +
          "credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket's policy.",
      );
    }
    return new ArchiveStorageError(`The bucket "${bucket}" at ${endpoint} answered ${error.name} (${what}).`);
  }
  const code = (error as { code?: string } | null)?.code;
  const name = (error as { name?: string } | null)?.name;
  if ((code && NETWORK_CODES.has(code)) || name === "TimeoutError") {
    return new ArchiveStorageError(
      `The archive endpoint ${endpoint} cannot be reached (${code ?? name}; ${what}): check ` +
        "RETRACE_ARCHIVE_S3_ENDPOINT and the network.",
    );
  }
  if (error instanceof Error && /region is missing/i.test(error.message)) {
    return new ArchiveStorageError("No region for the archive bucket: set RETRACE_ARCHIVE_S3_REGION or AWS_REGION.");
  }
  if (error instanceof Error && /credential/i.test(error.message)) {
    return new ArchiveStorageError(
      `No credentials for the bucket "${bucket}" (${what}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ` +
        "or AWS_PROFILE.",
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

const isMissingKey = (error: unknown) =>
  error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.name === "NotFound");

/**
 * A prefix in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, ...). There is no rename: a file appears under its
 * name only when its upload completes (a single PUT or a completed multipart upload), so a reader never sees half
 * of one; an archive is whole when its manifest is there, and the manifest is written last.
 */
export class BucketLocation implements ArchiveLocation {
  readonly href: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private made: S3Client | null;

  /** `client`: a parent's, shared by the locations inside it; else made at first use from the environment then. */
  constructor(href: string, client: S3Client | null = null) {
    this.made = client;
    const { bucket, prefix } = parseBucketHref(href);
    this.bucket = bucket;
    this.prefix = prefix;
    this.href = `s3://${bucket}${prefix ? `/${prefix}` : ""}`;
  }

  private client(): S3Client {
    return (this.made ??= s3Client());
  }

  private key(file: string): string {
    return this.prefix ? `${this.prefix}/${file}` : file;
  }

  child(name: string): ArchiveLocation {
    return new BucketLocation(`${this.href}/${name}`, this.client());
  }

  fileHref(file: string): string {
    return `s3://${this.bucket}/${this.key(file)}`;
  }

  async prepare(): Promise<void> {
    // Nothing to make; an interrupted multipart upload leaves no object (the bucket's lifecycle rule for incomplete
    // uploads clears its parts).
  }

  private async get(file: string) {
    try {
      return await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(file) }));
    } catch (error) {
      if (isMissingKey(error)) return null;
      throw describeS3Error(error, this.bucket, `reading ${this.fileHref(file)}`);
    }
  }

  async readText(file: string): Promise<string | null> {
    const object = await this.get(file);
    return object?.Body ? object.Body.transformToString("utf8") : null;
  }

  async read(file: string): Promise<Readable> {
    const object = await this.get(file);
    if (!object?.Body) throw new NotFound(`Object ${this.fileHref(file)}`);
    const body = object.Body as unknown;
    if (!(body instanceof Readable)) throw new Error(`The body of ${this.fileHref(file)} is not a Node stream.`);
    return body;
  }

  create(file: string): FileSink {
    const stream = new PassThrough();
    const upload = new Upload({
      client: this.client(),
      params: { Bucket: this.bucket, Key: this.key(file), Body: stream },
      partSize: PART_BYTES,
      queueSize: 1,
      leavePartsOnError: false,
    });
    const done = upload.done();
    // When the upload fails it stops reading and destroys the stream (an AbortError); the reason is done's.
    stream.on("error", () => undefined);
    const failed = done.then(
      () => new Promise<never>(() => undefined),
      (error: unknown) => {
        throw describeS3Error(error, this.bucket, `writing ${this.fileHref(file)}`);
      },
    );
    failed.catch(() => undefined);
    return {
      stream,
      failed,
      commit: async () => {
        stream.end();
        try {
          await done;
        } catch (error) {
          throw describeS3Error(error, this.bucket, `writing ${this.fileHref(file)}`);
        }
      },
      abandon: async () => {
        stream.destroy();
        await upload.abort().catch(() => undefined);
        await done.catch(() => undefined);
      },
    };
  }

  async writeText(file: string, text: string): Promise<void> {
    try {
      await this.client().send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(file),
          Body: text,
          ContentType: "application/json",
        }),
      );
    } catch (error) {
      throw describeS3Error(error, this.bucket, `writing ${this.fileHref(file)}`);
    }
  }

  async find(file: string, depth: number): Promise<string[]> {
    const base = this.prefix ? `${this.prefix}/` : "";
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client().send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw describeS3Error(error, this.bucket, `listing ${this.href}`);
    }
    // Like a directory walk: a level that holds the file is an archive, nothing under it is looked at.
    const dirs = keys
      .filter((key) => key.endsWith(`/${file}`) || key === file)
      .map((key) => key.slice(base.length, key.length - file.length).replace(/\/$/, ""))
      .filter((rest) => (rest === "" ? 0 : rest.split("/").length) <= depth)
      .sort();
    const kept = dirs.filter(
      (dir) => !dirs.some((other) => other !== dir && (other === "" || dir.startsWith(`${other}/`))),
    );
    return kept.map((dir) => (dir === "" ? this.fileHref(file) : this.child(dir).fileHref(file)));
  }
}
