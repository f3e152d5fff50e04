import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { isoTimestampSql } from "../db/iso-timestamp";

/** How far a database's seal chain reaches (the database page's Tamper evidence panel). */
export type SealState = {
  /** The newest sealed change: its commit time (UTC, microseconds) and id; null while nothing is sealed. */
  sealedUpTo: { at: string; changeId: string } | null;
  /**
   * How many of the chain's positions from before migration 0026 the worker has yet to complete
   * (lib/seals/backfill.ts): until none, time travel reads the database's big tables rather than walking them.
   */
  completing: number;
};

export async function sealState(db: Queryable, sourceId: string): Promise<SealState> {
  const found = await db.execute<{ at: string | null; change_id: string | null; completing: string | null }>(sql`
    select ${sql.raw(isoTimestampSql("h.committed_at"))} as at, h.change_id::text as change_id,
           (select pending_to::text from seal_row_backfill b where b.source_id = ${sourceId}::uuid) as completing
      from (select 1) one
      left join lateral (
        select committed_at, change_id from seal_checkpoints
         where source_id = ${sourceId}::uuid order by seal_checkpoints.position desc limit 1) h on true`);
  const row = found.rows[0];
  return {
    sealedUpTo: row?.at && row.change_id ? { at: row.at, changeId: row.change_id } : null,
    completing: Number(row?.completing ?? 0),
  };
}
