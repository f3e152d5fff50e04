import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { Invalid, NotFound } from "../errors";
import { isBucketHref, type ArchiveLocation } from "./location";
import { archiveLocation, fileLocation } from "./where";

/** The version of the archive format this code writes and reads (README: Archives). */
export const ARCHIVE_FORMAT = 1;
export const MANIFEST_FILE = "manifest.json";
export const DATA_FILE = "changes.ndjson.gz";
export const SEALS_FILE = "seals.ndjson.gz";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
/** A file of the archive, beside its manifest: a plain name, never a path (`../…`) out of the archive. */
const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
const fileEntry = z.object({ file: fileName, sha256: hex64, bytes: z.number().int().min(0) }).strict();
const checkpoint = z
  .object({
    position: z.string(),
    changeId: z.string(),
    commitLsn: z.string(),
    seq: z.number().int(),
    committedAt: z.string(),
    hash: hex64,
    signature: z.string(),
  })
  .strict();

const manifestSchema = z
  .object({
    format: z.literal(ARCHIVE_FORMAT),
    kind: z.literal("retrace-archive"),
    /** The trail partition archived (or the name given to a manual export). */
    partition: z.string(),
    source: z.object({ id: z.string(), name: z.string(), environment: z.string(), database: z.string() }).strict(),
    /** '' = the source's own partitions; 'schema.table' = a table with its own retention rule; null = every bucket. */
    bucket: z.string().nullable(),
    /** Commit times: from inclusive, to exclusive, UTC to the microsecond. */
    range: z.object({ from: z.string(), to: z.string() }).strict(),
    count: z.number().int().min(0),
    minId: z.string().nullable(),
    maxId: z.string().nullable(),
    columns: z.array(z.string()),
    data: fileEntry,
    chain: z
      .object({
        /** The chain hash before the first seal listed (a signed checkpoint's, or the genesis hash). */
        previousHash: hex64,
        /** Seal positions listed in the seals file: (fromPosition, toPosition]. */
        fromPosition: z.string(),
        toPosition: z.string(),
        seals: fileEntry,
        /** The signed checkpoint at fromPosition (null at the chain's start) and the one at toPosition. */
        start: checkpoint.nullable(),
        end: checkpoint,
      })
      .strict()
      /** Null when the archive holds no change. */
      .nullable(),
    createdAt: z.string(),
    /** HMAC-SHA-256 of the rest of the manifest, keyed by the instance secret (purpose "archive-manifest"). */
    signature: z.string(),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;
export type UnsignedManifest = Omit<Manifest, "signature">;
export type ManifestCheckpoint = z.infer<typeof checkpoint>;
export type ManifestChain = NonNullable<Manifest["chain"]>;

/** One line of the seals file: a change_seals row, and whether its change is in this archive. */
export const sealLineSchema = z
  .object({
    position: z.string(),
    changeId: z.string(),
    commitLsn: z.string(),
    seq: z.number().int(),
    table: z.string(),
    primaryKey: z.string().nullable(),
    /** Where the change was stored (change_seals keeps its partition key): which seals an archive must hold. */
    committedAt: z.string(),
    bucket: z.string(),
    digest: hex64,
    hash: hex64,
    archived: z.boolean(),
  })
  .strict();
export type SealLine = z.infer<typeof sealLineSchema>;

function manifestKey(secret: string): Buffer {
  return Buffer.from(crypto.hkdfSync("sha256", secret, "retrace", "archive-manifest", 32));
}

/** JSON with every object's keys sorted: the bytes signed, whatever order a manifest's fields were written in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function signature(manifest: UnsignedManifest, secret: string): string {
  return crypto.createHmac("sha256", manifestKey(secret)).update(canonicalJson(manifest)).digest("hex");
}

export function signManifest(manifest: UnsignedManifest, secret: string): Manifest {
  return { ...manifest, signature: signature(manifest, secret) };
}

export function manifestSignatureValid(manifest: Manifest, secret: string): boolean {
  const { signature: given, ...unsigned } = manifest;
  const expected = Buffer.from(signature(unsigned, secret), "hex");
  const actual = Buffer.from(given, "hex");
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

export type LocatedArchive = { location: ArchiveLocation; manifestPath: string; manifest: Manifest };

/** Reads and checks the manifest at `manifestPath` (a file path, or s3://bucket/key). */
export async function readManifest(manifestPath: string): Promise<LocatedArchive> {
  const { location, file } = fileLocation(manifestPath);
  const text = await location.readText(file);
  if (text === null) throw new NotFound(`Archive manifest ${manifestPath}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Invalid(`${manifestPath} is not JSON.`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    throw new Invalid(`${manifestPath} is not a Retrace archive manifest (format ${ARCHIVE_FORMAT}).`);
  }
  return { location, manifestPath, manifest: result.data };
}

/**
 * The archives at `where`: a manifest file, a directory (or bucket prefix) holding `manifest.json`, or one of
 * archive directories (RETRACE_ARCHIVE_DIR's layout, two levels deep at most), in name order.
 */
export async function findArchives(where: string): Promise<string[]> {
  if (isBucketHref(where)) {
    if (/\.json$/i.test(where)) return [where];
  } else {
    const stat = await fs.stat(where).catch(() => null);
    if (!stat) throw new NotFound(`Archive ${where}`);
    if (stat.isFile()) return [where];
  }
  const found = await archiveLocation(where).find(MANIFEST_FILE, 2);
  if (found.length === 0) throw new NotFound(`An archive (${MANIFEST_FILE}) under ${where}`);
  return isBucketHref(where) ? found : found.map((file) => path.join(where, path.relative(path.resolve(where), file)));
}
