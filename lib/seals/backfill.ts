import type pg from "pg";

export const BACKFILL_BATCH = 10_000;

/**
 * Fills in the schema and operation of seals written before migration 0026 (what time travel's walk reads of them:
 * lib/changes/as-of-walk.ts), one batch of positions of one source, from its newest such seal down. Each seal takes
 * them from its change, found in its partition by the partition key the seal keeps (source, bucket, commit time); a
 * seal whose change has expired keeps nulls (the walk never asks for it: it reads from the table's first stored
 * change). Once a source's positions are all done its seal_row_backfill row goes, and time travel walks its seals.
 * Returns how many positions it covered: 0 when nothing is left.
 */
export async function fillSealRows(pool: pg.Pool, limit = BACKFILL_BATCH): Promise<number> {
  // The sealer asks every round; almost always nothing is left, which one read says.
  if ((await pool.query("select 1 from seal_row_backfill limit 1")).rowCount === 0) return 0;
  const client = await pool.connect();
  try {
    await client.query("begin");
    try {
      const { rows } = await client.query<{ source_id: string; pending_to: string }>(
        `select source_id::text, pending_to::text from seal_row_backfill
          order by source_id limit 1 for update skip locked`,
      );
      const next = rows[0];
      if (!next) {
        await client.query("commit");
        return 0;
      }
      const to = BigInt(next.pending_to);
      const from = to - BigInt(limit);
      await client.query(
        `update change_seals s set schema = c.schema, operation = c.operation::text
           from changes c
          where s.source_id = $1 and s.position > $2::bigint and s.position <= $3::bigint and s.schema is null
            and c.source_id = s.source_id and c.bucket = s.bucket and c.committed_at = s.committed_at
            and c.id = s.change_id`,
        [next.source_id, from.toString(), to.toString()],
      );
      if (from <= 0n) await client.query("delete from seal_row_backfill where source_id = $1", [next.source_id]);
      else {
        await client.query("update seal_row_backfill set pending_to = $2 where source_id = $1", [
          next.source_id,
          from.toString(),
        ]);
      }
      await client.query("commit");
      return Number(to - (from < 0n ? 0n : from));
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
}
