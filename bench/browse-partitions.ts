import type pg from "pg";
import { ensurePartition } from "../lib/retention/partitions";
import { spanAt } from "../lib/retention/spans";

/** Monthly partitions of each source's own bucket, before the changes: three years of them. */
export const HISTORIC_MONTHS = 36;
/** Daily partitions of one table's bucket per source (a table kept for a short time): a year of them. */
export const HISTORIC_DAYS = 365;
const DAY_MS = 86_400_000;

/**
 * Gives each source the partitions a trail some years old has before its newest changes: a month of the source's
 * bucket for each of the HISTORIC_MONTHS before the oldest stored change, and a day of `public.t05`'s bucket for
 * each of the HISTORIC_DAYS before it. They are empty (what a year of rows costs to store is the scale workload's
 * question; this is what the number of partitions costs the reads: planning and probing them). Returns how many
 * partitions `changes` has then.
 */
export async function addHistoricPartitions(pool: pg.Pool, sourceIds: string[]): Promise<number> {
  const { rows } = await pool.query<{ oldest: Date | null }>("select min(min_at) as oldest from change_segments");
  const oldest = rows[0]?.oldest ?? new Date();
  for (const sourceId of sourceIds) {
    for (let month = 1; month <= HISTORIC_MONTHS; month++) {
      const at = new Date(Date.UTC(oldest.getUTCFullYear(), oldest.getUTCMonth() - month, 15));
      await ensurePartition(pool, { sourceId, bucket: "", span: spanAt(at, null) });
    }
    for (let day = 1; day <= HISTORIC_DAYS; day++) {
      const at = new Date(oldest.getTime() - day * DAY_MS);
      await ensurePartition(pool, { sourceId, bucket: "public.t05", span: spanAt(at, 1) });
    }
  }
  await pool.query("analyze changes");
  const { rows: counted } = await pool.query<{ n: number }>(
    "select count(*)::int as n from pg_inherits where inhparent = 'changes'::regclass",
  );
  return counted[0]?.n ?? 0;
}
