import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { NotFound } from "../errors";
import { fsyncPath, removeTemporaryFiles, temporaryName, writeFileAtomically } from "./files";

/**
 * A file being written: its bytes go to `stream`; under its name only once `commit` resolves, never half. `failed`
 * rejects, with what to tell the user, if the sink fails before then (it never resolves).
 */
export type FileSink = { stream: Writable; failed: Promise<never>; commit(): Promise<void>; abandon(): Promise<void> };

/**
 * Where an archive's files live: a directory on disk or a prefix in an S3-compatible bucket (lib/archive/s3.ts).
 * Both hold the same files under the same names; what differs is only how a file is made whole (rename against a
 * completed upload) and how archives are found.
 */
export interface ArchiveLocation {
  /** The location as a user writes it: a directory path, or s3://bucket/prefix. */
  readonly href: string;
  /** A location inside this one (a directory in it, a longer prefix). */
  child(name: string): ArchiveLocation;
  /** The location of one of its files, as a user writes it. */
  fileHref(file: string): string;
  /** Ready to be written: a directory is made (its owner's only) and leftovers of an interrupted write go. */
  prepare(): Promise<void>;
  /** A file's text, or null when there is no such file. */
  readText(file: string): Promise<string | null>;
  /** A file's bytes, streamed; NotFound when there is no such file. */
  read(file: string): Promise<Readable>;
  create(file: string): FileSink;
  /** A small file written whole: a reader sees the old one or the new one, never half. */
  writeText(file: string, text: string): Promise<void>;
  /** The hrefs of the files named `file` in this location and in locations up to `depth` levels below it. */
  find(file: string, depth: number): Promise<string[]>;
}

export class DirectoryLocation implements ArchiveLocation {
  readonly href: string;
  constructor(dir: string) {
    this.href = dir;
  }

  child(name: string): ArchiveLocation {
    return new DirectoryLocation(path.join(this.href, name));
  }

  fileHref(file: string): string {
    return path.join(this.href, file);
  }

  async prepare(): Promise<void> {
    // The trail, outside the store: for its owner only, like the data directory.
    await fsp.mkdir(this.href, { recursive: true, mode: 0o700 });
    await removeTemporaryFiles(this.href);
  }

  async readText(file: string): Promise<string | null> {
    return fsp.readFile(this.fileHref(file), "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return null;
      throw error;
    });
  }

  async read(file: string): Promise<Readable> {
    const name = this.fileHref(file);
    const handle = await fsp.open(name, "r").catch(() => {
      throw new NotFound(`File ${name}`);
    });
    return handle.createReadStream();
  }

  create(file: string): FileSink {
    const name = this.fileHref(file);
    const temporary = temporaryName(name);
    const stream = fs.createWriteStream(temporary, { mode: 0o600 });
    const failed = new Promise<never>((_, reject) => stream.on("error", reject));
    failed.catch(() => undefined);
    return {
      stream,
      failed,
      commit: async () => {
        stream.end();
        await finished(stream);
        await fsyncPath(temporary);
        await fsp.rename(temporary, name);
      },
      abandon: async () => {
        stream.destroy();
        await fsp.rm(temporary, { force: true });
      },
    };
  }

  async writeText(file: string, text: string): Promise<void> {
    await writeFileAtomically(this.fileHref(file), text);
  }

  async find(file: string, depth: number): Promise<string[]> {
    const stat = await fsp.stat(this.href).catch(() => null);
    if (!stat?.isDirectory()) return [];
    if (await fsp.stat(this.fileHref(file)).catch(() => null)) return [this.fileHref(file)];
    if (depth === 0) return [];
    const found: string[] = [];
    const entries = await fsp.readdir(this.href, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) found.push(...(await this.child(entry.name).find(file, depth - 1)));
    }
    return found;
  }
}

export const isBucketHref = (where: string) => /^s3:\/\//i.test(where);
