import crypto from "node:crypto";
import { once } from "node:events";
import fsp from "node:fs/promises";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import zlib from "node:zlib";
import type { FileSink } from "./location";

/** A temporary name beside `file`: renamed over it once complete, so a reader never sees half a file. */
export const temporaryName = (file: string) => `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;

/** Leftovers of an archive write that was interrupted: removed before the next one. */
export async function removeTemporaryFiles(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (/\.tmp-\d+-[0-9a-f]{8}$/.test(name)) await fsp.rm(path.join(dir, name), { force: true });
  }
}

export async function fsyncPath(file: string): Promise<void> {
  const handle = await fsp.open(file, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Text written through gzip into a file of an archive location (lib/archive/location.ts), with the SHA-256 of the
 * compressed bytes; `commit` makes the file whole under its name (fsync and rename, or a completed upload). `write`
 * waits while gzip or the disk or the bucket is behind, so memory stays at a buffer's worth whatever is written.
 */
export class GzipFileWriter {
  private readonly gzip = zlib.createGzip();
  private readonly hash = crypto.createHash("sha256");
  private bytes = 0;
  private failure: unknown = null;
  /** Settles when the first failure happens: a write waiting for `drain` must not wait for ever after one. */
  private readonly failed: Promise<never>;

  constructor(
    private readonly file: string,
    private readonly sink: FileSink,
  ) {
    this.gzip.on("data", (chunk: Buffer) => {
      this.hash.update(chunk);
      this.bytes += chunk.length;
    });
    this.gzip.pipe(sink.stream, { end: false });
    let reject: (error: unknown) => void = () => undefined;
    this.failed = new Promise<never>((_, rejectWith) => (reject = rejectWith));
    this.failed.catch(() => undefined);
    const fail = (error: unknown) => {
      this.failure ??= error;
      reject(this.failure);
    };
    this.gzip.on("error", fail);
    // A sink that fails (a disk full, a connection cut) stops reading: gzip would never drain.
    sink.failed.catch(fail);
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.gzip.write(text)) await Promise.race([once(this.gzip, "drain"), this.failed]);
    if (this.failure) throw this.failure;
  }

  async commit(): Promise<{ file: string; sha256: string; bytes: number }> {
    this.gzip.end();
    await Promise.race([finished(this.gzip), this.failed]);
    if (this.failure) throw this.failure;
    await this.sink.commit();
    return { file: this.file, sha256: this.hash.digest("hex"), bytes: this.bytes };
  }

  /** Gives up: the file never appears under its name. */
  async abandon(): Promise<void> {
    this.gzip.destroy();
    await this.sink.abandon();
  }
}

/** Writes `text` to `file` atomically: a temporary file, fsync, rename, then fsync of the directory. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = temporaryName(file);
  const handle = await fsp.open(temporary, "w", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(temporary, file);
  await fsyncPath(path.dirname(file));
}

/**
 * The lines of a gzip file, one at a time, and (once they are all read) the SHA-256 and size of the file's
 * compressed bytes. A file that is not gzip, or is cut short, throws.
 */
export function readGzipLines(
  file: string,
  open: () => Promise<Readable>,
): {
  lines: AsyncIterable<string>;
  digest: () => { sha256: string; bytes: number };
} {
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  let sha256: string | null = null;
  async function* lines() {
    const input = await open();
    input.on("data", (chunk: Buffer | string) => {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      hash.update(buffer);
      bytes += buffer.length;
    });
    const gunzip = zlib.createGunzip();
    input.on("error", (error) => gunzip.destroy(error));
    input.pipe(gunzip);
    const decoder = new StringDecoder("utf8");
    let rest = "";
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        const text = rest + decoder.write(chunk);
        const parts = text.split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) if (line !== "") yield line;
      }
      rest += decoder.end();
      if (rest !== "") yield rest;
      sha256 = hash.digest("hex");
    } finally {
      input.destroy();
      gunzip.destroy();
    }
  }
  return {
    lines: lines(),
    digest: () => {
      if (sha256 === null) throw new Error(`${file} was not read to its end`);
      return { sha256, bytes };
    },
  };
}
