import { compareLsn } from "../replication/lsn";
import { chainHash, changeDigest, checkpointSignatureValid, GENESIS } from "../seals/chain";
import type { NamedChange } from "../seals/types";
import { parseArchiveLine, sealedColumns, type ArchiveLine } from "./columns";
import { readGzipLines } from "./files";
import { manifestSignatureValid, readManifest, sealLineSchema, type LocatedArchive, type SealLine } from "./manifest";

export type ArchiveProblem =
  /** An archived change's bytes differ from what was sealed. */
  | "altered"
  /** A line of the data file that the sealed chain does not list as archived. */
  | "inserted"
  /** A change the seals list as archived is not in the data file. */
  | "removed"
  /** The seals file or its checkpoints do not chain up to a checkpoint signed with this instance's key. */
  | "seals-tampered"
  /** A file's SHA-256 (or size, or line count) is not the manifest's. */
  | "data-hash"
  /** The manifest was edited after it was signed, or signed with another key. */
  | "manifest-tampered"
  /** A file is missing, not gzip, cut short, or holds a line that is not an archived change. */
  | "unreadable";

export type ArchiveVerification =
  | { ok: true; manifestPath: string; count: number; archive: LocatedArchive }
  | {
      ok: false;
      manifestPath: string;
      problem: ArchiveProblem;
      change: NamedChange | null;
      message: string;
    };

class Failure extends Error {
  constructor(
    readonly problem: ArchiveProblem,
    readonly change: NamedChange | null,
    message: string,
  ) {
    super(message);
  }
}

const named = (line: ArchiveLine): NamedChange => {
  const c = sealedColumns(line);
  return { id: c.id, table: c.table, primaryKey: c.primary_key, commitLsn: c.commit_lsn, seq: c.seq };
};
const sealNamed = (s: SealLine): NamedChange => ({
  id: s.changeId,
  table: s.table,
  primaryKey: s.primaryKey,
  commitLsn: s.commitLsn,
  seq: s.seq,
});
const describe = (c: NamedChange) => `Change ${c.id} (${c.table}, key ${c.primaryKey ?? "none"})`;

async function* parsedLines<T>(lines: AsyncIterable<string>, parse: (text: string) => T, file: string) {
  let number = 0;
  try {
    for await (const text of lines) {
      number += 1;
      let value: T;
      try {
        value = parse(text);
      } catch {
        throw new Failure("unreadable", null, `Line ${number} of ${file} is not what an archive holds.`);
      }
      yield value;
    }
  } catch (error) {
    if (error instanceof Failure) throw error;
    throw new Failure(
      "unreadable",
      null,
      `${file} cannot be read (${error instanceof Error ? error.message : error}).`,
    );
  }
}

/**
 * Verifies an archive on its own (with the instance secret): the manifest's signature, the SHA-256 of its files, each
 * change's digest against its seal, and the chain from the checkpoint before the archived changes to the signed one
 * after them. A bad change is named (the first one, in commit order) before any other problem is reported.
 */
export async function verifyArchive(manifestPath: string, secret: string): Promise<ArchiveVerification> {
  let archive: LocatedArchive;
  try {
    archive = await readManifest(manifestPath);
  } catch (error) {
    return { ok: false, manifestPath, problem: "unreadable", change: null, message: (error as Error).message };
  }
  const { manifest, location } = archive;
  const late: Failure[] = [];
  if (!manifestSignatureValid(manifest, secret)) {
    late.push(
      new Failure("manifest-tampered", null, "The manifest's signature does not verify with this instance's key."),
    );
  }
  const data = readGzipLines(manifest.data.file, () => location.read(manifest.data.file));
  const changes = parsedLines(data.lines, parseArchiveLine, manifest.data.file);
  try {
    let count = 0;
    const counted = (async function* () {
      for await (const line of changes) {
        count += 1;
        yield line;
      }
    })();
    const chain = manifest.chain;
    if (chain) {
      const seals = readGzipLines(chain.seals.file, () => location.read(chain.seals.file));
      await walkChain(
        parsedLines(seals.lines, (text) => sealLineSchema.parse(JSON.parse(text)), chain.seals.file),
        counted,
        { ...chain, sourceId: manifest.source.id, bucket: manifest.bucket, range: manifest.range },
        secret,
      );
      const sealsDigest = seals.digest();
      if (sealsDigest.sha256 !== chain.seals.sha256 || sealsDigest.bytes !== chain.seals.bytes) {
        late.unshift(
          new Failure("data-hash", null, `${chain.seals.file} is not the file the manifest names (SHA-256).`),
        );
      }
    } else {
      for await (const line of counted)
        throw new Failure("inserted", named(line), `${describe(named(line))} is in an empty archive.`);
    }
    const digest = data.digest();
    if (digest.sha256 !== manifest.data.sha256 || digest.bytes !== manifest.data.bytes) {
      late.unshift(
        new Failure("data-hash", null, `${manifest.data.file} is not the file the manifest names (SHA-256).`),
      );
    }
    if (count !== manifest.count) {
      late.unshift(
        new Failure("data-hash", null, `The archive holds ${count} changes, the manifest says ${manifest.count}.`),
      );
    }
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    late.unshift(error);
  } finally {
    await changes.return(undefined);
  }
  const failure = late[0];
  if (failure) {
    return { ok: false, manifestPath, problem: failure.problem, change: failure.change, message: failure.message };
  }
  return { ok: true, manifestPath, count: manifest.count, archive };
}

type ChainEnds = {
  sourceId: string;
  /** The archive's selection: a seal is of an archived change exactly when its bucket and commit time are in it. */
  bucket: string | null;
  range: { from: string; to: string };
  previousHash: string;
  fromPosition: string;
  start: { position: string; changeId: string; commitLsn: string; seq: number; hash: string; signature: string } | null;
  end: { position: string; changeId: string; commitLsn: string; seq: number; hash: string; signature: string };
};

async function walkChain(
  seals: AsyncGenerator<SealLine>,
  changes: AsyncGenerator<ArchiveLine>,
  chain: ChainEnds,
  secret: string,
): Promise<void> {
  const { sourceId, start, end } = chain;
  for (const checkpoint of [start, end]) {
    if (checkpoint && !checkpointSignatureValid({ sourceId, ...checkpoint }, checkpoint.signature, secret)) {
      throw new Failure(
        "seals-tampered",
        null,
        `The signed checkpoint at position ${checkpoint.position} does not verify.`,
      );
    }
  }
  if ((start?.hash ?? GENESIS) !== chain.previousHash || (start?.position ?? "0") !== chain.fromPosition) {
    throw new Failure("seals-tampered", null, "The chain does not start at its signed checkpoint.");
  }
  const selected = (committedAt: string, bucket: string) =>
    (chain.bucket === null || bucket === chain.bucket) &&
    committedAt >= chain.range.from &&
    committedAt < chain.range.to;
  let hash = chain.previousHash;
  let position = BigInt(chain.fromPosition);
  let change = await changes.next();
  for await (const seal of seals) {
    position += 1n;
    if (BigInt(seal.position) !== position) {
      throw new Failure("seals-tampered", sealNamed(seal), `The seal at position ${position} is missing.`);
    }
    if (seal.archived !== selected(seal.committedAt, seal.bucket)) {
      throw new Failure(
        "seals-tampered",
        sealNamed(seal),
        `The seal at position ${position} is ${seal.archived ? "" : "not "}marked archived, against its time.`,
      );
    }
    if (seal.archived) {
      if (change.done)
        throw new Failure(
          "removed",
          sealNamed(seal),
          `${describe(sealNamed(seal))} is sealed as archived but missing.`,
        );
      const line = change.value;
      const sealed = sealedColumns(line);
      const order = compareLsn(sealed.commit_lsn, seal.commitLsn) || sealed.seq - seal.seq;
      if (order < 0 || (order === 0 && sealed.id !== seal.changeId)) {
        throw new Failure(
          "inserted",
          named(line),
          `${describe(named(line))} is in the archive but not in its sealed chain.`,
        );
      }
      if (order > 0) {
        throw new Failure(
          "removed",
          sealNamed(seal),
          `${describe(sealNamed(seal))} is sealed as archived but missing.`,
        );
      }
      if (changeDigest(sealed) !== seal.digest || line.bucket !== seal.bucket) {
        throw new Failure("altered", named(line), `${describe(named(line))} differs from what was sealed.`);
      }
      change = await changes.next();
    } else if (!change.done) {
      const sealed = sealedColumns(change.value);
      if (
        compareLsn(sealed.commit_lsn, seal.commitLsn) < 0 ||
        (sealed.commit_lsn === seal.commitLsn && sealed.seq <= seal.seq)
      ) {
        throw new Failure(
          "inserted",
          named(change.value),
          `${describe(named(change.value))} is in the archive but not in its sealed chain.`,
        );
      }
    }
    hash = chainHash(hash, seal.digest);
    if (hash !== seal.hash)
      throw new Failure("seals-tampered", sealNamed(seal), `The seal chain does not match at position ${position}.`);
  }
  if (!change.done) {
    throw new Failure(
      "inserted",
      named(change.value),
      `${describe(named(change.value))} is in the archive but not in its sealed chain.`,
    );
  }
  if (position !== BigInt(end.position) || hash !== end.hash) {
    throw new Failure(
      "seals-tampered",
      null,
      `The chain does not reach the signed checkpoint at position ${end.position}.`,
    );
  }
}
