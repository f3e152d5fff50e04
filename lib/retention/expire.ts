import type pg from "pg";
import { deleteEmptyRollups, forgetGoneContexts, SUBTRACT_GONE_SEGMENTS } from "../changes/summary-sql";
import { defaultArchiver, type PartitionArchiver, type TrailPartition } from "./archive-hook";
import { signExpiry, type Expiry } from "./expiry-signature";
import { DEFAULT_LOCK_TIMEOUT_MS, isLockTimeout, PARTITION_DDL_LOCK } from "./partitions";
import { loadRetentionRules, resolveRetention } from "./rules";

/**
 * The expirer (run by the worker, worker/partition-keeper.ts): drops a partition of `changes` whole once its span
 * ended more than its bucket's retention ago, never a row at a time. A partition waits while any change in it is
 * not sealed yet (the seal chain must cover what goes), and while its rule asks for an archive that no archiver
 * can write, and while an active hold (lib/holds) of its database overlaps its span: a held partition is neither
 * archived nor dropped. One expirer at a time across workers (an advisory lock); its DDL waits at most
 * `lockTimeoutMs`.
 */

export type ExpireOptions = {
  /** The expirer's clock (tests move it ahead). */
  now?: Date;
  lockTimeoutMs?: number;
  /** Writes an archive before a drop when the rule asks for one (default: lib/archive's, when wired in). */
  archiver?: PartitionArchiver | null;
};

export type ExpireResult = {
  dropped: string[];
  /**
   * Expired but kept for now: held, not sealed yet, no archiver, its archive could not be written (`error` says
   * why: no such bucket, access denied, endpoint unreachable, a full disk, ...), or its lock was busy.
   */
  waiting: (
    | { name: string; why: "held" | "unsealed" | "no-archiver" | "locked" | "changed" }
    | { name: string; why: "archive-failed"; error: string }
  )[];
};

const DAY_MS = 86_400_000;

/** `held`: an active hold (lib/holds) of its database overlaps its span. */
type Row = TrailPartition & { environment: string | null; held: boolean };

export async function expirePartitions(
  pool: pg.Pool,
  secret: string,
  options: ExpireOptions = {},
): Promise<ExpireResult> {
  const now = options.now ?? new Date();
  const archiver = options.archiver === undefined ? defaultArchiver() : options.archiver;
  const result: ExpireResult = { dropped: [], waiting: [] };
  const client = await pool.connect();
  try {
    const { rows: lock } = await client.query<{ got: boolean }>(
      "select pg_try_advisory_lock(hashtextextended('retrace-expiry', 0)) as got",
    );
    if (!lock[0]?.got) return result;
    try {
      const rules = await loadRetentionRules(client);
      const { rows } = await client.query<Row>(
        `select p.name, p.source_id::text as "sourceId", p.bucket, p.from_at as "fromAt", p.to_at as "toAt",
                s.environment,
                exists (select 1 from trail_holds h
                         where h.source_id = p.source_id and h.released_at is null
                           and h.from_at < p.to_at and h.to_at > p.from_at) as held
           from trail_partitions p left join sources s on s.id = p.source_id
          order by p.to_at, p.name`,
      );
      for (const partition of rows) {
        if (partition.environment === null) {
          // Its source was deleted with its changes (lib/sources/source-lifecycle.ts): an empty partition left.
          if (await dropOrphan(client, partition, options.lockTimeoutMs)) result.dropped.push(partition.name);
          continue;
        }
        const retention = resolveRetention(rules, partition.environment, partition.bucket);
        if (retention.days === null || partition.toAt.getTime() > now.getTime() - retention.days * DAY_MS) continue;
        if (partition.held) {
          result.waiting.push({ name: partition.name, why: "held" });
          continue;
        }
        let archiveLocation: string | null = null;
        let archived: Stats | null = null;
        if (retention.archive) {
          if (!archiver) {
            result.waiting.push({ name: partition.name, why: "no-archiver" });
            continue;
          }
          archived = await partitionStats(client, partition.name);
          if (!(await allSealed(client, partition.sourceId, archived))) {
            result.waiting.push({ name: partition.name, why: "unsealed" });
            continue;
          }
          try {
            archiveLocation = await archiver(pool, partition, secret);
          } catch (error) {
            // The archive did not land whole: the partition stays, and the next round tries again.
            const message = error instanceof Error ? error.message : String(error);
            result.waiting.push({ name: partition.name, why: "archive-failed", error: message });
            continue;
          }
        }
        try {
          const why = await dropExpired(client, partition, secret, archiveLocation, archived, options.lockTimeoutMs);
          if (why === null) result.dropped.push(partition.name);
          else result.waiting.push({ name: partition.name, why });
        } catch (error) {
          if (!isLockTimeout(error)) throw error;
          result.waiting.push({ name: partition.name, why: "locked" });
        }
      }
    } finally {
      await client.query("select pg_advisory_unlock(hashtextextended('retrace-expiry', 0))");
    }
  } finally {
    client.release();
  }
  return result;
}

type Stats = { n: number; min: string | null; max: string | null };

async function partitionStats(client: pg.PoolClient, name: string): Promise<Stats> {
  const { rows } = await client.query<Stats>(
    `select count(*)::int as n, min(id)::text as min, max(id)::text as max from "${name}"`,
  );
  return rows[0] ?? { n: 0, min: null, max: null };
}

/** Whether the source's seal chain covers every change of the partition (ids follow a source's commit order). */
async function allSealed(client: pg.PoolClient, sourceId: string, stats: Stats): Promise<boolean> {
  if (stats.n === 0 || stats.max === null) return true;
  const { rows } = await client.query<{ change_id: string }>(
    `select change_id::text from seal_checkpoints where source_id = $1
      order by seal_checkpoints.position desc limit 1`,
    [sourceId],
  );
  const head = rows[0]?.change_id;
  return head !== undefined && BigInt(head) >= BigInt(stats.max);
}

/** Whether an active hold overlaps the partition now (the same test as the round's query). */
async function isHeld(client: pg.PoolClient, partition: TrailPartition): Promise<boolean> {
  const { rows } = await client.query<{ held: boolean }>(
    `select exists (select 1 from trail_holds where source_id = $1 and released_at is null
                                                 and from_at < $3 and to_at > $2) as held`,
    [partition.sourceId, partition.fromAt, partition.toAt],
  );
  return rows[0]?.held ?? false;
}

const lockTimeout = (ms: number | undefined) =>
  `set local lock_timeout = ${Math.max(1, Math.round(ms ?? DEFAULT_LOCK_TIMEOUT_MS))}`;

/**
 * In one store transaction: the signed trail_expiries row, the change summary's segments whose every change went,
 * the partition, its trail_partitions row. Null when dropped, else why not (nothing changed then). A hold placed
 * since the round began is seen here: placing one waits for this transaction's lock (lib/holds/holds.ts).
 */
async function dropExpired(
  client: pg.PoolClient,
  partition: TrailPartition,
  secret: string,
  archiveLocation: string | null,
  archived: Stats | null,
  lockTimeoutMs: number | undefined,
): Promise<"held" | "unsealed" | "changed" | null> {
  await client.query("begin");
  try {
    await client.query(lockTimeout(lockTimeoutMs));
    await client.query(PARTITION_DDL_LOCK);
    // No row comes or goes while it is looked at and dropped (a late row of an old commit could land in it). The
    // parent first, as ingest takes its locks (parent, then partition), or the two could deadlock.
    await client.query("lock table only changes in access exclusive mode");
    await client.query(`lock table "${partition.name}" in access exclusive mode`);
    const stats = await partitionStats(client, partition.name);
    const unchanged = !archived || (archived.n === stats.n && archived.max === stats.max && archived.min === stats.min);
    const why = (await isHeld(client, partition))
      ? "held"
      : !unchanged
        ? "changed"
        : (await allSealed(client, partition.sourceId, stats))
          ? null
          : "unsealed";
    if (why !== null) {
      await client.query("rollback");
      return why;
    }
    const expiry: Expiry = {
      partition: partition.name,
      sourceId: partition.sourceId,
      bucket: partition.bucket,
      fromAt: partition.fromAt,
      toAt: partition.toAt,
      changes: stats.n,
      minChangeId: stats.min,
      maxChangeId: stats.max,
      archiveLocation,
    };
    await client.query(
      `insert into trail_expiries (partition, source_id, bucket, from_at, to_at, changes, min_change_id, max_change_id,
                                   archive_location, signature)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        expiry.partition,
        expiry.sourceId,
        expiry.bucket,
        expiry.fromAt,
        expiry.toAt,
        expiry.changes,
        expiry.minChangeId,
        expiry.maxChangeId,
        expiry.archiveLocation,
        signExpiry(expiry, secret),
      ],
    );
    await client.query(`drop table "${partition.name}"`);
    await client.query("delete from trail_partitions where name = $1", [partition.name]);
    // Segments of the span whose changes are all gone now (a segment can also count changes of another bucket
    // that stay: of the same table stored before its rule was set).
    await client.query(
      `with gone as (
       delete from change_segments s
        where s.source_id = $1 and s.minute >= $3 and s.minute < $4
          and ($2 = '' or s.schema || '.' || s."table" = $2)
          and not exists (
            select 1 from changes c
             where c.source_id = s.source_id and c."table" = s."table" and c.schema = s.schema
               and c.committed_at >= s.minute and c.committed_at < s.minute + interval '1 minute'
               and c.id between s.min_id and s.max_id)
       returning s.*
     ), ${SUBTRACT_GONE_SEGMENTS}
     select 1`,
      [partition.sourceId, partition.bucket, partition.fromAt, partition.toAt],
    );
    // The chart's rollups lost what those segments counted; context entries left with no change go.
    await deleteEmptyRollups(client, partition.sourceId, partition.fromAt, partition.toAt);
    await forgetGoneContexts(client, partition.sourceId, partition.fromAt, partition.toAt);
    await client.query("commit");
    return null;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** Drops a partition of a source that is gone, when it holds nothing. */
async function dropOrphan(
  client: pg.PoolClient,
  partition: TrailPartition,
  lockTimeoutMs: number | undefined,
): Promise<boolean> {
  await client.query("begin");
  try {
    await client.query(lockTimeout(lockTimeoutMs));
    await client.query(PARTITION_DDL_LOCK);
    await client.query("lock table only changes in access exclusive mode");
    await client.query(`lock table "${partition.name}" in access exclusive mode`);
    const { rows } = await client.query<{ any: boolean }>(`select exists (select 1 from "${partition.name}") as any`);
    if (rows[0]?.any) {
      await client.query("rollback");
      return false;
    }
    await client.query(`drop table "${partition.name}"`);
    await client.query("delete from trail_partitions where name = $1", [partition.name]);
    await client.query("commit");
    return true;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    if (isLockTimeout(error)) return false;
    throw error;
  }
}
