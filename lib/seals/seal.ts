import type pg from "pg";
import { chainHash, changeDigest, GENESIS, SEALED_COLUMNS_SQL, signCheckpoint, type SealedChange } from "./chain";

export const DEFAULT_SEAL_BATCH = 1_000;

/**
 * Seals the next (at most `limit`) stored changes of a source past its chain head, in commit order
 * ((commit_lsn, seq): one worker writes a source, in commit order), in one store transaction: one
 * change_seals row each and one signed checkpoint for the batch. A per-source advisory lock keeps two
 * workers from sealing the same source at once. Returns how many changes it sealed.
 *
 * The transaction is REPEATABLE READ, its snapshot taken before the read of `changes` is planned: under READ
 * COMMITTED a statement can plan with the partitions as they were and run with a snapshot taken after the partition
 * keeper moved rows out of the default partition into a new one (lib/retention/partitions.ts), and see those rows
 * nowhere: the chain would go on past them and leave them unsealed for good. With the snapshot first, moved rows are
 * seen where the snapshot has them (the default partition, scanned by every plan) or in a partition whose attach it
 * sees, which the plan then holds too. The lock is a session lock taken before the transaction starts, so that a
 * sealer that waited for another reads the head that one wrote.
 */
export async function sealNextBatch(
  pool: pg.Pool,
  sourceId: string,
  secret: string,
  limit = DEFAULT_SEAL_BATCH,
): Promise<number> {
  const client = await pool.connect();
  const lock = "hashtextextended('retrace-seal:' || $1, 0)";
  let broken: Error | undefined;
  try {
    await client.query(`select pg_advisory_lock(${lock})`, [sourceId]);
    try {
      return await sealInTransaction(client, sourceId, secret, limit);
    } finally {
      await client.query(`select pg_advisory_unlock(${lock})`, [sourceId]).catch((error: Error) => {
        broken = error; // the connection is not handed back with the lock held
      });
    }
  } finally {
    client.release(broken);
  }
}

async function sealInTransaction(
  client: pg.PoolClient,
  sourceId: string,
  secret: string,
  limit: number,
): Promise<number> {
  await client.query("begin isolation level repeatable read");
  try {
    const head = await client.query<{ position: string; commit_lsn: string; seq: number; hash: string }>(
      `select position::text, commit_lsn::text, seq, hash from seal_checkpoints
       where source_id = $1 order by seal_checkpoints.position desc limit 1`,
      [sourceId],
    );
    const last = head.rows[0];
    const next = await readUnsealed(client, sourceId, last ?? null, limit);
    if (next.length === 0) {
      await client.query("commit");
      return 0;
    }
    let position = BigInt(last?.position ?? "0");
    let hash = last?.hash ?? GENESIS;
    const rows = {
      position: [] as string[],
      changeId: [] as string[],
      lsn: [] as string[],
      seq: [] as number[],
      schema: [] as string[],
      table: [] as string[],
      key: [] as (string | null)[],
      operation: [] as string[],
      digest: [] as string[],
      hash: [] as string[],
      committedAt: [] as string[],
      bucket: [] as string[],
    };
    for (const change of next) {
      position += 1n;
      const digest = changeDigest(change);
      hash = chainHash(hash, digest);
      rows.position.push(position.toString());
      rows.changeId.push(change.id);
      rows.lsn.push(change.commit_lsn);
      rows.seq.push(change.seq);
      rows.schema.push(change.schema);
      rows.table.push(change.table);
      rows.key.push(change.primary_key);
      rows.operation.push(change.operation);
      rows.digest.push(digest);
      rows.hash.push(hash);
      rows.committedAt.push(change.committed_at);
      rows.bucket.push(change.bucket);
    }
    await client.query(
      `insert into change_seals (source_id, position, change_id, commit_lsn, seq, schema, "table", primary_key,
                                 operation, digest, hash, committed_at, bucket)
       select $1, * from unnest($2::bigint[], $3::bigint[], $4::pg_lsn[], $5::int[], $6::text[], $7::text[],
                                $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[])`,
      [
        sourceId,
        rows.position,
        rows.changeId,
        rows.lsn,
        rows.seq,
        rows.schema,
        rows.table,
        rows.key,
        rows.operation,
        rows.digest,
        rows.hash,
        rows.committedAt,
        rows.bucket,
      ],
    );
    const end = next[next.length - 1];
    if (!end) throw new Error("no change to seal");
    const checkpoint = {
      sourceId,
      position: position.toString(),
      changeId: end.id,
      commitLsn: end.commit_lsn,
      seq: end.seq,
      hash,
    };
    await client.query(
      `insert into seal_checkpoints (source_id, position, change_id, commit_lsn, seq, committed_at, hash, signature)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        sourceId,
        checkpoint.position,
        end.id,
        end.commit_lsn,
        end.seq,
        end.committed_at,
        hash,
        signCheckpoint(checkpoint, secret),
      ],
    );
    await client.query("commit");
    return next.length;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

type Position = { commit_lsn: string; seq: number };

/**
 * The next `limit` changes of a source after `last`, in commit order, read only where they can be: a store years old
 * has hundreds of partitions, and a read of them all is planned anew for every batch (~90 ms with 1,213, more than
 * the batch's own work). The change summary's segments past `last` (written in each change's transaction) say from
 * which commit time; each of the source's buckets is read from then (lib/changes/partitions.ts), and the default
 * partition whole. Without such a segment (changes written behind the worker's back) every partition is read.
 */
async function readUnsealed(
  client: pg.PoolClient,
  sourceId: string,
  last: Position | null,
  limit: number,
): Promise<(SealedChange & { bucket: string })[]> {
  const after = [sourceId, last?.commit_lsn ?? null, last?.seq ?? 0, limit];
  const unsealed = "c.source_id = $1 and ($2::pg_lsn is null or (c.commit_lsn, c.seq) > ($2::pg_lsn, $3::int))";
  const columns = `${SEALED_COLUMNS_SQL}, bucket`;
  const { rows: since } = await client.query<{ from: Date | null }>(
    "select min(min_at) as from from change_segments where source_id = $1 and ($2::pg_lsn is null or max_lsn >= $2)",
    [sourceId, last?.commit_lsn ?? null],
  );
  const from = since[0]?.from ?? null;
  if (from === null) {
    const all = await client.query<SealedChange & { bucket: string }>(
      `select ${columns} from changes c where ${unsealed} order by c.commit_lsn, c.seq limit $4`,
      after,
    );
    return all.rows;
  }
  const { rows: buckets } = await client.query<{ bucket: string }>(
    "select distinct bucket from trail_partitions where source_id = $1",
    [sourceId],
  );
  const branch = (relation: string, bounds: string) =>
    `(select ${columns} from ${relation} c where ${bounds}${unsealed} order by c.commit_lsn, c.seq limit $4)`;
  // `changes` before `changes_default`: the order the partition DDL locks them in (lib/changes/partitions.ts).
  const branches = [
    ...buckets.map((_, i) =>
      branch(
        "changes",
        `c.bucket = $${i + 6} and c.committed_at >= $5
         and c.tableoid::oid::int8 <> 'changes_default'::regclass::oid::int8 and `,
      ),
    ),
    branch("changes_default", ""),
  ];
  const read = await client.query<SealedChange & { bucket: string }>(
    `select * from (${branches.join(" union all ")}) c order by c.commit_lsn::pg_lsn, c.seq limit $4`,
    buckets.length === 0 ? after : [...after, from, ...buckets.map((row) => row.bucket)],
  );
  return read.rows;
}

/**
 * Seals every source's stored changes up to now (`only`: one source's), a batch of each source in turn while any is
 * behind: a source that changes faster than it is sealed (a big first ingest) does not keep the others waiting.
 * Returns how many it sealed. With `duty` under 1, it rests after each full batch (more waiting) so that it seals at
 * most that fraction of the time while `ingesting()` says ingest is at work: the worker that seals also ingests, on
 * the same cores, and ingest comes first. Once ingest is quiet, it catches up at full speed.
 */
export async function sealAll(
  pool: pg.Pool,
  secret: string,
  options: {
    batch?: number;
    stopping?: () => boolean;
    duty?: number;
    only?: string;
    ingesting?: () => boolean;
    rest?: (ms: number) => Promise<void>;
  } = {},
): Promise<number> {
  const rest = options.rest ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const duty = Math.min(1, Math.max(0.01, options.duty ?? 1));
  const batch = options.batch ?? DEFAULT_SEAL_BATCH;
  const listed = await pool.query<{ id: string }>(
    "select id::text from sources where $1::uuid is null or id = $1::uuid order by created_at",
    [options.only ?? null],
  );
  let total = 0;
  let behind = listed.rows.map((row) => row.id);
  while (behind.length > 0) {
    const still: string[] = [];
    for (const id of behind) {
      if (options.stopping?.()) return total;
      const started = performance.now();
      const sealed = await sealNextBatch(pool, id, secret, batch);
      total += sealed;
      if (sealed < batch) continue;
      still.push(id);
      const resting = ((performance.now() - started) * (1 - duty)) / duty;
      if (resting > 0 && (options.ingesting?.() ?? true)) await rest(resting);
    }
    behind = still;
  }
  return total;
}
