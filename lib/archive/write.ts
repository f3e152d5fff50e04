import type pg from "pg";
import { Conflict, NotFound } from "../errors";
import { compareLsn } from "../replication/lsn";
import { chainHash, changeDigest, checkpointSignatureValid, GENESIS } from "../seals/chain";
import { archiveSelectList, COLUMN_NAMES, sealedColumns, type ArchiveLine } from "./columns";
import { GzipFileWriter } from "./files";
import type { ArchiveLocation } from "./location";
import { ArchiveStorageError } from "./s3";
import { archiveLocation } from "./where";
import {
  ARCHIVE_FORMAT,
  DATA_FILE,
  MANIFEST_FILE,
  readManifest,
  SEALS_FILE,
  signManifest,
  type Manifest,
  type ManifestCheckpoint,
  type SealLine,
} from "./manifest";

/**
 * What an archive holds: one source's changes of one bucket committed in [fromAt, toAt) — a trail_partitions row,
 * or a range exported by hand (`bucket` null: every bucket).
 */
export type ArchivePartition = { name: string; sourceId: string; bucket: string | null; fromAt: Date; toAt: Date };

/**
 * Where archives go (RETRACE_ARCHIVE_DIR): a directory, or s3://bucket/prefix, holding one archive per partition.
 * A string is read by lib/archive/where.ts.
 */
export type ArchiveTarget = ArchiveLocation | string;

/** `href`: where the archive is, as a user writes it (a directory path, or s3://bucket/prefix/name). */
export type WrittenArchive = { href: string; manifest: Manifest; reused: boolean };

const located = (target: ArchiveTarget) => (typeof target === "string" ? archiveLocation(target) : target);

const FETCH = 1_000;

const CHECKPOINT_COLUMNS = `position::text, change_id::text as "changeId", commit_lsn::text as "commitLsn", seq,
  to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "committedAt", hash, signature`;

const iso = (time: Date) => time.toISOString().replace(/Z$/, "000Z");

/** The directory already holds an archive of other changes. */
export class ArchiveExists extends Conflict {}

/**
 * Archives a partition into `<target>/<partition name>/` (see writeArchive). A partition name can come back (rows
 * of an expired span landing late get a partition of the same name), and a partition can change between its
 * archive and its drop (the expirer then tries again): when that directory holds an archive of other changes, the
 * next free `<name>-2`, `<name>-3`, … is used instead.
 */
export async function archivePartition(
  pool: pg.Pool,
  partition: ArchivePartition,
  target: ArchiveTarget,
  secret: string,
): Promise<WrittenArchive> {
  const base = located(target);
  for (let attempt = 1; ; attempt++) {
    const location = base.child(attempt === 1 ? partition.name : `${partition.name}-${attempt}`);
    try {
      return await writeArchive(pool, partition, location, secret);
    } catch (error) {
      if (!(error instanceof ArchiveExists) || attempt >= 1_000) throw error;
    }
  }
}

/**
 * Writes the partition's changes to `target` (a directory, or a bucket prefix) as gzip-compressed NDJSON (one line
 * per change, every column as stored: lib/archive/columns.ts), their seals and the signed checkpoints around them
 * (seals.ndjson.gz, the manifest's chain), and manifest.json (signed with the instance secret) last. Everything is
 * read in one snapshot of the store, a thousand rows at a time, and streamed out: through temporary files, fsync and
 * rename in a directory, as multipart uploads to a bucket, so a crash leaves either no manifest or a whole archive.
 * While writing it checks every change against its seal and the chain against the signed checkpoints: a trail that
 * does not verify, or changes not sealed yet, are refused (Conflict). A location that already holds the archive of
 * the same changes is left as it is (`reused`); one holding another archive is refused.
 */
export async function writeArchive(
  pool: pg.Pool,
  partition: ArchivePartition,
  target: ArchiveTarget,
  secret: string,
): Promise<WrittenArchive> {
  const location = located(target);
  const client = await pool.connect();
  try {
    await client.query("begin isolation level repeatable read read only");
    try {
      const written = await writeInSnapshot(client, partition, location, secret);
      await client.query("commit");
      return written;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
}

type Key = { commit_lsn: string; seq: number };
const keyOrder = (a: Key, b: Key) => compareLsn(a.commit_lsn, b.commit_lsn) || a.seq - b.seq;

async function writeInSnapshot(
  client: pg.PoolClient,
  partition: ArchivePartition,
  location: ArchiveLocation,
  secret: string,
): Promise<WrittenArchive> {
  const { rows: sources } = await client.query<{ id: string; name: string; environment: string; database: string }>(
    "select id::text, name, environment, database from sources where id = $1",
    [partition.sourceId],
  );
  const source = sources[0];
  if (!source) throw new NotFound(`Database ${partition.sourceId}`);
  await checkColumns(client);

  const where =
    "c.source_id = $1 and c.committed_at >= $2 and c.committed_at < $3" +
    (partition.bucket === null ? "" : " and c.bucket = $4");
  const params: unknown[] = [partition.sourceId, partition.fromAt, partition.toAt];
  if (partition.bucket !== null) params.push(partition.bucket);
  const { rows: stats } = await client.query<{ count: number; min_id: string | null; max_id: string | null }>(
    `select count(*)::int as count, min(id)::text as min_id, max(id)::text as max_id from changes c where ${where}`,
    params,
  );
  const { count, min_id: minId, max_id: maxId } = stats[0] ?? { count: 0, min_id: null, max_id: null };

  await location.prepare();
  const existing = await readManifest(location.fileHref(MANIFEST_FILE)).catch((error: unknown) => {
    // No manifest (or not one of ours, which is written over): no archive there yet. A bucket that cannot be read
    // is no place to write one either.
    if (error instanceof ArchiveStorageError) throw error;
    return null;
  });
  if (existing) {
    const m = existing.manifest;
    const same =
      m.source.id === partition.sourceId &&
      m.bucket === partition.bucket &&
      m.range.from === iso(partition.fromAt) &&
      m.range.to === iso(partition.toAt) &&
      m.count === count &&
      m.minId === minId &&
      m.maxId === maxId;
    if (same) return { href: location.href, manifest: m, reused: true };
    throw new ArchiveExists(`${location.href} already holds another archive (${m.partition}, ${m.count} changes).`);
  }

  const data = new GzipFileWriter(DATA_FILE, location.create(DATA_FILE));
  const seals = new GzipFileWriter(SEALS_FILE, location.create(SEALS_FILE));
  try {
    const chain =
      count === 0 ? null : await writeChanges(client, partition.sourceId, where, params, data, seals, secret);
    const dataFile = await data.commit();
    const sealsFile = await seals.commit();
    const manifest = signManifest(
      {
        format: ARCHIVE_FORMAT,
        kind: "retrace-archive",
        partition: partition.name,
        source,
        bucket: partition.bucket,
        range: { from: iso(partition.fromAt), to: iso(partition.toAt) },
        count,
        minId,
        maxId,
        columns: [...COLUMN_NAMES],
        data: dataFile,
        chain: chain && { ...chain, seals: sealsFile },
        createdAt: new Date().toISOString(),
      },
      secret,
    );
    // Last: an archive is whole exactly when its manifest is there.
    await location.writeText(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
    return { href: location.href, manifest, reused: false };
  } catch (error) {
    await Promise.all([data.abandon(), seals.abandon()]);
    throw error;
  }
}

/** The store's `changes` must have exactly the columns an archive carries, or the archive would not be exact. */
async function checkColumns(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `select attname as name from pg_attribute
      where attrelid = 'changes'::regclass and attnum > 0 and not attisdropped order by attnum`,
  );
  const stored = rows.map((row) => row.name);
  const missing = stored.filter((name) => !COLUMN_NAMES.includes(name));
  const extra = COLUMN_NAMES.filter((name) => !stored.includes(name));
  if (missing.length || extra.length) {
    throw new Error(
      `The archive format and the changes table disagree (not archived: ${missing.join(", ") || "none"}; ` +
        `not in the table: ${extra.join(", ") || "none"}).`,
    );
  }
}

async function checkpointAround(
  client: pg.PoolClient,
  sourceId: string,
  side: "before" | "covering",
  key: Key,
): Promise<ManifestCheckpoint | null> {
  const { rows } = await client.query<ManifestCheckpoint>(
    `select ${CHECKPOINT_COLUMNS} from seal_checkpoints where source_id = $1
        and (commit_lsn, seq) ${side === "before" ? "<" : ">="} ($2::pg_lsn, $3::int)
      order by seal_checkpoints.position ${side === "before" ? "desc" : "asc"} limit 1`,
    [sourceId, key.commit_lsn, key.seq],
  );
  return rows[0] ?? null;
}

/**
 * Writes the selected changes (in commit order) and the seals from the signed checkpoint before the first of them
 * to the first signed checkpoint at or after the last, checking each change against its seal and the chain.
 */
async function writeChanges(
  client: pg.PoolClient,
  sourceId: string,
  where: string,
  params: unknown[],
  data: GzipFileWriter,
  seals: GzipFileWriter,
  secret: string,
) {
  const ends = await client.query<Key & { last: boolean }>(
    `(select commit_lsn::text, seq, false as last from changes c where ${where} order by c.commit_lsn, c.seq limit 1)
     union all
     (select commit_lsn::text, seq, true from changes c where ${where} order by c.commit_lsn desc, c.seq desc limit 1)`,
    params,
  );
  const first = ends.rows.find((row) => !row.last);
  const last = ends.rows.find((row) => row.last);
  if (!first || !last) throw new Error("the selection has no first or last change");
  const start = await checkpointAround(client, sourceId, "before", first);
  const end = await checkpointAround(client, sourceId, "covering", last);
  if (!end) {
    throw new Conflict("Some of these changes are not sealed yet (the worker seals new changes within seconds).");
  }
  for (const checkpoint of [start, end]) {
    if (checkpoint && !checkpointSignatureValid({ sourceId, ...checkpoint }, checkpoint.signature, secret)) {
      throw new Conflict(
        `The signed checkpoint at position ${checkpoint.position} does not verify: run retrace verify.`,
      );
    }
  }

  await client.query(
    `declare archive_changes no scroll cursor for
       select ${archiveSelectList("c")} from changes c where ${where} order by c.commit_lsn, c.seq`,
    params,
  );
  await client.query(
    `declare archive_seals no scroll cursor for
       select position::text, change_id::text as "changeId", commit_lsn::text as "commitLsn", seq, "table",
              primary_key as "primaryKey",
              to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "committedAt", bucket,
              digest, hash
         from change_seals where source_id = $1 and position > $2::bigint and position <= $3::bigint
        order by change_seals.position`,
    [sourceId, start?.position ?? "0", end.position],
  );
  const changes = fetched<ArchiveLine>(client, "archive_changes");
  const sealRows = fetched<Omit<SealLine, "archived">>(client, "archive_seals");

  let hash = start?.hash ?? GENESIS;
  let position = BigInt(start?.position ?? "0");
  let change = await changes.next();
  for await (const seal of sealRows) {
    position += 1n;
    if (BigInt(seal.position) !== position) throw new Conflict(`The seal at position ${position} is missing.`);
    const sealKey = { commit_lsn: seal.commitLsn, seq: seal.seq };
    let archived = false;
    if (!change.done) {
      const line = change.value;
      const sealed = sealedColumns(line);
      const order = keyOrder(sealed, sealKey);
      if (order < 0) throw new Conflict(`Change ${sealed.id} (${sealed.table}) is stored but not sealed.`);
      if (order === 0) {
        if (sealed.id !== seal.changeId || changeDigest(sealed) !== seal.digest) {
          throw new Conflict(
            `Change ${sealed.id} (${sealed.table}, key ${sealed.primary_key ?? "none"}) differs from its seal: ` +
              "the trail does not verify (run retrace verify).",
          );
        }
        await data.write(`${JSON.stringify(line)}\n`);
        archived = true;
        change = await changes.next();
      }
    }
    hash = chainHash(hash, seal.digest);
    if (hash !== seal.hash) throw new Conflict(`The seal chain does not match at position ${position}.`);
    await seals.write(`${JSON.stringify({ ...seal, archived })}\n`);
  }
  if (!change.done) throw new Conflict(`Change ${String(change.value.id)} is stored but not sealed.`);
  if (position !== BigInt(end.position) || hash !== end.hash) {
    throw new Conflict(`The seal chain does not match the signed checkpoint at position ${end.position}.`);
  }
  return {
    previousHash: start?.hash ?? GENESIS,
    fromPosition: start?.position ?? "0",
    toPosition: end.position,
    start,
    end,
  };
}

/** The rows of an open cursor, FETCH by FETCH. */
async function* fetched<T extends pg.QueryResultRow>(client: pg.PoolClient, cursor: string): AsyncGenerator<T> {
  for (;;) {
    const { rows } = await client.query<T>(`fetch ${FETCH} from ${cursor}`);
    yield* rows;
    if (rows.length < FETCH) return;
  }
}
