import path from "node:path";
import type pg from "pg";
import { recordAudit, type AuditActor } from "../audit/record";
import { storeDb } from "../db/client";
import { summarizeRowsSql } from "../changes/segments";
import { SUBTRACT_GONE_SEGMENTS } from "../changes/summary-sql";
import { Conflict } from "../errors";
import { holdImported } from "../holds/holds";
import { DEFAULT_SEAL_BATCH, sealNextBatch } from "../seals/seal";
import { verifySource } from "../seals/verify";
import { isUuid } from "../sources/lookup";
import { recreateRemovedSource } from "../sources/source-lifecycle";
import { importSelectList, parseArchiveLine, quotedColumnList, type ArchiveLine } from "./columns";
import { readGzipLines } from "./files";
import { verifyArchive } from "./verify";

export type ImportedArchive = {
  manifestPath: string;
  /** The database the changes are of, and their commit times (from inclusive, to exclusive): the manifest's. */
  source: { id: string; name: string };
  range: { from: string; to: string };
  /** Changes in the archive. */
  count: number;
  /** Of them, stored by this import (the others were in the store already, byte for byte). */
  inserted: number;
  /** The hold that keeps them from expiring again; `placed` false when one of that span was there already. */
  hold: { id: string; placed: boolean };
  /** Whether the store had no database of the archive's id, and the import recreated it (removed, changes kept). */
  recreated: boolean;
  /** Whether the database's seal chain in this store was sealed again from the start (dropChainMissing). */
  resealed: boolean;
  /**
   * Why sealing the imported changes failed after the import committed (null: sealed, or not this import's to seal).
   * The import stands; a worker's sealer seals them at its next round.
   */
  sealFailure: string | null;
};

const BATCH = 1_000;

/**
 * Brings an archive's changes back into the store: verified first (verifyArchive: an archive that does not verify
 * is refused and nothing is written), then in one store transaction, with their own ids, into `changes` (PostgreSQL
 * routes each to its partition, or the default one), summarised into change_segments and trail_tables so the
 * change list finds them again. Idempotent: a change already stored is skipped, provided every column is the same;
 * an archive that disagrees with the store (another change under one of its ids or keys) is refused. The data file is
 * hashed again as it is read, so a file swapped between the check and the import is refused too. In the same
 * transaction a hold (lib/holds) is placed over the archive's database and range, so that the expirer does not drop
 * the changes again at its next round (their span has expired, or they would not have been archived). With `actor`,
 * audited as `archive.import` (and `hold.create` when the hold is new) in that same transaction.
 *
 * An archive of a database the store does not have (deleted with its changes, or an archive brought to another store
 * with the same instance secret) recreates it first, in that transaction, as a database removed keeping its changes
 * (recreateRemovedSource). The archive's own seal chain stays in the archive (`retrace archive verify` checks it, and
 * the import did); in the store the imported changes of a removed database are sealed as they come, after the
 * commit, so `retrace verify` vouches for them from their import on (dropChainMissing when an older archive comes).
 */
export async function importArchive(
  pool: pg.Pool,
  manifestPath: string,
  secret: string,
  options: { actor?: AuditActor } = {},
): Promise<ImportedArchive> {
  const verified = await verifyArchive(manifestPath, secret);
  if (!verified.ok) throw new Conflict(`The archive ${manifestPath} does not verify: ${verified.message}`);
  const { manifest, location } = verified.archive;
  if (!isUuid(manifest.source.id)) throw new Conflict(`The archive ${manifestPath} names no database id.`);

  const client = await pool.connect();
  let imported: ImportedArchive;
  let removed: boolean;
  try {
    await client.query("begin");
    try {
      const tx = storeDb(client);
      const recreated = await recreateRemovedSource(tx, manifest.source);
      await client.query("create temporary table archive_import (like changes) on commit drop");
      const data = readGzipLines(manifest.data.file, () => location.read(manifest.data.file));
      let batch: ArchiveLine[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        await client.query(
          `insert into archive_import (${quotedColumnList()})
           select ${importSelectList("r")} from json_array_elements($1::json) as r`,
          [JSON.stringify(batch)],
        );
        batch = [];
      };
      for await (const text of data.lines) {
        batch.push(parseArchiveLine(text));
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      if (data.digest().sha256 !== manifest.data.sha256) {
        throw new Conflict(`${manifest.data.file} changed while it was imported.`);
      }
      const inserted = await insertNew(client);
      const source = { id: manifest.source.id, name: manifest.source.name };
      const { rows: state } = await client.query<{ removed: boolean }>(
        "select removed_at is not null as removed from sources where id = $1",
        [source.id],
      );
      removed = state[0]?.removed ?? false;
      const resealed = removed && (await dropChainMissing(client, pool, secret, source));
      // A bucket location stays as it is; a path is named whole.
      const where = /^[a-z][a-z0-9+.-]*:\/\//i.test(manifestPath) ? manifestPath : path.resolve(manifestPath);
      const hold = await holdImported(tx, options.actor, { source, range: manifest.range, manifest: where });
      imported = {
        manifestPath,
        source,
        range: manifest.range,
        count: manifest.count,
        inserted,
        hold,
        recreated,
        resealed,
        sealFailure: null,
      };
      if (options.actor) {
        await recordAudit(
          tx,
          options.actor,
          "archive.import",
          { type: "database", id: source.id, label: source.name },
          {
            archive: where,
            from: imported.range.from,
            to: imported.range.to,
            count: imported.count,
            inserted,
            hold: hold.id,
            recreated,
            resealed,
          },
        );
      }
      await client.query("commit");
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
  // Sealed now rather than at a worker's next round: a store may be brought up for the import with no worker. The
  // import has committed: a failure here is reported with it, not as the import's.
  if (removed) {
    try {
      await sealAllOf(pool, secret, imported.source.id);
    } catch (error) {
      imported.sealFailure = error instanceof Error ? error.message : String(error);
    }
  }
  return imported;
}

/**
 * A database recreated from an archive (recreateRemovedSource) has the seal chain its imports made, sealed as they
 * were imported, not the one it had: an archive of older changes, or of another bucket's changes in between, brings
 * changes before that chain's head that it does not hold, and verify would name them inserted. Then, provided the
 * chain verifies as it is (read on another connection: nothing of this import is visible there yet), it is dropped
 * in this transaction, to be sealed again from the start over every stored change once the import commits. True
 * when dropped. Only asked of removed databases: a connected one's chain holds every change it archived, and so
 * does a database removed keeping its changes.
 */
async function dropChainMissing(
  client: pg.PoolClient,
  pool: pg.Pool,
  secret: string,
  source: { id: string; name: string },
): Promise<boolean> {
  const { rows } = await client.query<{ id: string }>(
    `with head as (
       select commit_lsn, seq from seal_checkpoints where source_id = $1 order by position desc limit 1
     )
     select s.id::text from archive_import s join archive_inserted i on i.id = s.id cross join head h
      where (s.commit_lsn, s.seq) <= (h.commit_lsn, h.seq)
        and not exists (select 1 from change_seals x where x.source_id = s.source_id and x.change_id = s.id)
      order by s.commit_lsn, s.seq limit 1`,
    [source.id],
  );
  const older = rows[0];
  if (!older) return false;
  const chain = await verifySource(pool, source.id, secret);
  if (!chain.ok) {
    throw new Conflict(
      `Change ${older.id} of the archive is older than the seal chain of database ${source.name} (${source.id}) ` +
        `in this store reaches, and that chain does not verify (${chain.message}), so it cannot be sealed again ` +
        "to take it: nothing was imported.",
    );
  }
  // After a sealer of this database that is running (lib/seals/seal.ts takes the same lock).
  await client.query("select pg_advisory_xact_lock(hashtextextended('retrace-seal:' || $1, 0))", [source.id]);
  await client.query("delete from change_seals where source_id = $1", [source.id]);
  await client.query("delete from seal_checkpoints where source_id = $1", [source.id]);
  return true;
}

/** Seals every stored change of the database past its chain head (what the worker's sealer would do next). */
async function sealAllOf(pool: pg.Pool, secret: string, sourceId: string): Promise<void> {
  while ((await sealNextBatch(pool, sourceId, secret)) === DEFAULT_SEAL_BATCH);
}

/** Refuses rows that disagree with the store, inserts the others with their summary; returns how many. */
async function insertNew(client: pg.PoolClient): Promise<number> {
  await client.query("create index on archive_import (id)");
  await client.query("analyze archive_import");
  const { rows: clashes } = await client.query<{ id: string }>(
    `select s.id::text from archive_import s
       join changes c on c.id = s.id or (c.source_id = s.source_id and c.commit_lsn = s.commit_lsn and c.seq = s.seq)
      where row(s.*)::text is distinct from row(c.*)::text
      order by s.id limit 1`,
  );
  const clash = clashes[0];
  if (clash) {
    throw new Conflict(
      `Change ${clash.id} of the archive clashes with a different change stored under its id or position: ` +
        "nothing was imported.",
    );
  }
  await client.query(
    `create temporary table archive_inserted (id bigint, source_id uuid, schema text, "table" text,
                                              committed_at timestamptz) on commit drop`,
  );
  await client.query(
    `with rows as (
       insert into changes overriding system value
       select s.* from archive_import s
        where not exists (select 1 from changes c where c.id = s.id)
       on conflict do nothing
       returning id, source_id, schema, "table", committed_at
     )
     insert into archive_inserted select * from rows`,
  );
  const { rows } = await client.query<{ inserted: number; max_id: string | null }>(
    "select count(*)::int as inserted, max(id)::text as max_id from archive_inserted",
  );
  const result = rows[0] ?? { inserted: 0, max_id: null };
  if (result.inserted > 0) {
    await resummarize(client);
    // Seals written before migration 0026 of changes that had expired by then lack what time travel's walk reads
    // of them (lib/changes/as-of-walk.ts); the changes are back, and so is that.
    await client.query(
      `update change_seals s set schema = a.schema, operation = a.operation::text
         from archive_import a
        where s.source_id = a.source_id and s.change_id = a.id and s.schema is null`,
    );
  }
  if (result.max_id !== null) {
    // Ids drawn later must stay above the imported ones (an archive brought into another store).
    await client.query(
      `select setval('changes_id_seq', $1::bigint)
        where $1::bigint > (select case when is_called then last_value else last_value - 1 end from changes_id_seq)`,
      [result.max_id],
    );
  }
  return result.inserted;
}

/**
 * Summarises the imported changes (change_segments, trail_tables) so the change list finds them. Each summary
 * segment they fall in is counted again from the changes stored now rather than added to: an expiry keeps a segment
 * that still has some of its changes (another bucket's) with the counts of those that went, and adding the imported
 * ones to it would count them twice. A segment's changes are all within its id range (segments.ts), read by the
 * (table, id) index.
 */
async function resummarize(client: pg.PoolClient): Promise<void> {
  await client.query(
    `create temporary table archive_minutes on commit drop as
     select source_id, schema, "table", date_trunc('minute', committed_at, 'UTC') as minute, min(id) as lo,
            max(id) as hi
       from archive_inserted group by 1, 2, 3, 4`,
  );
  await client.query(
    `with gone as (
       delete from change_segments s using archive_minutes m
        where s.source_id = m.source_id and s.schema = m.schema and s."table" = m."table" and s.minute = m.minute
       returning s.*
     ), ${SUBTRACT_GONE_SEGMENTS}, kept as (
       insert into archive_minutes select source_id, schema, "table", minute, min_id, max_id from gone
     )
     select 1`,
  );
  await client.query(
    `with hull as (
       select source_id, schema, "table", minute, min(lo) as lo, max(hi) as hi from archive_minutes group by 1, 2, 3, 4
     ), rows as (
       select c.* from hull h
         join changes c on c."table" = h."table" and c.id between h.lo and h.hi and c.source_id = h.source_id
                       and c.schema = h.schema and date_trunc('minute', c.committed_at, 'UTC') = h.minute
     ), ${summarizeRowsSql("rows")}
     select 1`,
  );
}
