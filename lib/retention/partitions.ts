import type pg from "pg";
import { bucketTables, loadRetentionRules, resolveRetention, type RetentionRule } from "./rules";
import {
  partitionName,
  partitionNameDisambiguated,
  spanAt,
  spansFrom,
  uncovered,
  uncoveredAround,
  type Span,
} from "./spans";

/**
 * The partition keeper (run by the worker, worker/partition-keeper.ts): creates the partitions of `changes` ahead of
 * the rows, and moves rows that landed in the default partition into partitions of their own. Off the ingest path:
 * its DDL waits at most `lockTimeoutMs` for a lock (then gives up until its next round), and a missing partition
 * never stops ingest, the default partition takes the rows meanwhile.
 */

export type KeeperOptions = {
  /** The keeper's clock (tests move it ahead). */
  now?: Date;
  /** Spans made ahead of the current one, per bucket (default 2). */
  ahead?: number;
  /** How long a DDL statement may wait for its lock (default 1000 ms). */
  lockTimeoutMs?: number;
};

export type KeeperResult = { created: string[]; moved: number; skipped: number };

export const DEFAULT_LOCK_TIMEOUT_MS = 1_000;

/** The store refused a lock within lock_timeout (55P03) or found a deadlock (40P01): try again next round. */
export function isLockTimeout(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === "55P03" || code === "40P01";
}

/** Serializes keepers and expirers of every worker on the store (a transaction-level advisory lock). */
export const PARTITION_DDL_LOCK = "select pg_advisory_xact_lock(hashtextextended('retrace-partitions', 0))";

type Wanted = { sourceId: string; bucket: string; span: Span; at?: Date };

/**
 * Creates the partition for `wanted.span` of a source's bucket (only the part no partition covers yet: around
 * `wanted.at` when given, else from the span's start), in one store transaction with its trail_partitions row, and
 * moves into it the rows the default partition holds for its range (keeping their ids). Returns its name and how
 * many rows it moved, or null when the range is covered already.
 */
export async function ensurePartition(
  pool: pg.Pool,
  wanted: Wanted,
  lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
): Promise<{ name: string; moved: number; to: Date } | null> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    try {
      await client.query(`set local lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
      await client.query(PARTITION_DDL_LOCK);
      const { rows: existing } = await client.query<{ from: Date; to: Date }>(
        `select from_at as "from", to_at as "to" from trail_partitions
          where source_id = $1 and bucket = $2 and to_at > $3 and from_at < $4`,
        [wanted.sourceId, wanted.bucket, wanted.span.from, wanted.span.to],
      );
      const span = wanted.at ? uncoveredAround(wanted.span, existing, wanted.at) : uncovered(wanted.span, existing);
      if (!span || span.from >= span.to) {
        await client.query("commit");
        return null;
      }
      const first = partitionName(wanted.sourceId, wanted.bucket, span.from);
      const { rows: taken } = await client.query<{ taken: boolean }>(
        "select to_regclass(format('%I', $1::text)) is not null as taken",
        [first],
      );
      const name = taken[0]?.taken ? partitionNameDisambiguated(wanted.sourceId, wanted.bucket, span.from) : first;
      const range = [wanted.sourceId, wanted.bucket, span.from.toISOString(), span.to.toISOString()];
      // ATTACH checks the default partition holds no row of the new range (under an exclusive lock on it, which
      // only ingest rows routed to the default wait for): the rows it holds move out first, and back in after.
      await client.query("lock table changes_default in access exclusive mode");
      const { rows: held } = await client.query<{ n: number }>(
        `select count(*)::int as n from changes_default
          where source_id = $1 and bucket = $2 and committed_at >= $3 and committed_at < $4`,
        range,
      );
      const moved = held[0]?.n ?? 0;
      if (moved > 0) {
        await client.query("create temp table moving_changes on commit drop as select * from changes_default limit 0");
        await client.query(
          `with gone as (
             delete from changes_default
              where source_id = $1 and bucket = $2 and committed_at >= $3 and committed_at < $4 returning *)
           insert into moving_changes select * from gone`,
          range,
        );
      }
      const quoted = `"${name}"`;
      await client.query(`create table ${quoted} (like changes including defaults)`);
      const bound = (at: string) => `(${literal(wanted.sourceId)}, ${literal(wanted.bucket)}, ${literal(at)})`;
      await client.query(
        `alter table changes attach partition ${quoted}
           for values from ${bound(span.from.toISOString())} to ${bound(span.to.toISOString())}`,
      );
      if (moved > 0) {
        await client.query("insert into changes overriding system value select * from moving_changes");
      }
      await client.query(
        "insert into trail_partitions (name, source_id, bucket, from_at, to_at) values ($1, $2, $3, $4, $5)",
        [name, wanted.sourceId, wanted.bucket, span.from, span.to],
      );
      await client.query("commit");
      return { name, moved, to: span.to };
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
}

/** A SQL string literal (partition bounds cannot be parameters). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * One round of the keeper: for every source (not removed), for the source's bucket and each table bucket its
 * environment's rules make, the partitions of the current span and the `ahead` after it; then the default
 * partition's rows, into partitions of their spans. A partition whose lock could not be had is skipped (counted).
 */
export async function keepPartitions(pool: pg.Pool, options: KeeperOptions = {}): Promise<KeeperResult> {
  const rules = await loadRetentionRules(pool);
  const result: KeeperResult = { created: [], moved: 0, skipped: 0 };
  const attempt = attempter(pool, result, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  const { rows: sources } = await pool.query<{ id: string; environment: string }>(
    "select id::text, environment from sources where removed_at is null order by created_at",
  );
  for (const source of sources) await keepSpans(source, rules, options, attempt);
  // Rows no partition covered when they were stored (a long pause, an old transaction, clock skew). Each round
  // takes one row's span at a time; a bounded number of them.
  for (let round = 0; round < 100; round++) {
    const { rows } = await pool.query<{ source_id: string; bucket: string; environment: string; committed_at: Date }>(
      "select source_id::text, bucket, environment, committed_at from changes_default limit 1",
    );
    const row = rows[0];
    if (!row) break;
    const { days } = resolveRetention(rules, row.environment, row.bucket);
    const at = row.committed_at;
    const before = result.moved;
    const made = await attempt({ sourceId: row.source_id, bucket: row.bucket, span: spanAt(at, days), at });
    if (made === false) break;
    if (result.moved === before) break;
  }
  return result;
}

/**
 * One source's partitions ahead (its bucket's and its table buckets'): what the worker makes when it leases a source,
 * before streaming it, so that a database connected since the keeper's last round does not start in the default.
 */
export async function keepSourcePartitions(
  pool: pg.Pool,
  source: { id: string; environment: string },
  options: KeeperOptions = {},
): Promise<KeeperResult> {
  const rules = await loadRetentionRules(pool);
  const result: KeeperResult = { created: [], moved: 0, skipped: 0 };
  await keepSpans(source, rules, options, attempter(pool, result, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
  return result;
}

/** The partition made (null: covered already), or false when its lock was busy. */
type Attempt = (wanted: Wanted) => Promise<{ to: Date } | null | false>;

async function keepSpans(
  source: { id: string; environment: string },
  rules: RetentionRule[],
  options: KeeperOptions,
  attempt: Attempt,
): Promise<void> {
  for (const bucket of ["", ...bucketTables(rules, source.environment)]) {
    const { days } = resolveRetention(rules, source.environment, bucket);
    for (const span of spansFrom(options.now ?? new Date(), days, options.ahead ?? 2)) {
      // A span can be covered in pieces (a rule that changed the span's size): every gap of it gets one.
      for (let from = span.from, pieces = 0; from < span.to && pieces < 32; pieces++) {
        const made = await attempt({ sourceId: source.id, bucket, span: { from, to: span.to } });
        if (!made) break;
        from = made.to;
      }
    }
  }
}

/** ensurePartition, counted into `result`; false when its lock was busy (the next round tries again). */
function attempter(pool: pg.Pool, result: KeeperResult, lockTimeoutMs: number): Attempt {
  return async (wanted) => {
    try {
      const made = await ensurePartition(pool, wanted, lockTimeoutMs);
      if (made) {
        result.created.push(made.name);
        result.moved += made.moved;
      }
      return made;
    } catch (error) {
      if (!isLockTimeout(error)) throw error;
      result.skipped += 1;
      return false;
    }
  };
}
