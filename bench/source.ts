import pg from "pg";
import { encryptSecret } from "../lib/crypto/secrets";
import { publicationOptionsSql } from "../lib/sources/publication";
import type { BenchServers } from "./servers";

/** RETRACE_SECRET of the benchmark's worker (it only decrypts the source password below). */
export const BENCH_SECRET = "retrace-benchmark-secret-0123456789abcdef";

/**
 * The rows every workload writes: an order-like table with a bigint key, an int, a numeric,
 * short and ~32-byte text and a timestamp (about 100 bytes per row). `$1`..`$2` is the id range.
 */
export function rowsSelect(fromParam: string, toParam: string): string {
  return `select i, (abs(i) % 1000)::int, ((abs(i) % 100000) / 100.0)::numeric(12,2),
                 (array['new','paid','shipped','refunded'])[1 + (abs(i) % 4)::int], md5(i::text), now()
            from generate_series(${fromParam}::bigint, ${toParam}::bigint) i`;
}

export type Provisioned = {
  table: string;
  publication: string;
  retraceSlot: string;
  /** One per pg_recvlogical drain. */
  baselineSlots: string[];
};

/**
 * A table, its publication and the slots, the way Retrace provisions a source (publication FOR
 * TABLE with its options, lib/sources/publication.ts; REPLICA IDENTITY FULL; pgoutput slots): Retrace's slot
 * and `baselineDrains` more for pg_recvlogical, created back to back before any row is written,
 * so they all hold exactly the same changes.
 */
export async function provision(servers: BenchServers, name: string, baselineDrains: number): Promise<Provisioned> {
  const provisioned: Provisioned = {
    table: `bench_${name}`,
    publication: `bench_${name}_pub`,
    retraceSlot: `bench_${name}_retrace`,
    baselineSlots: Array.from({ length: baselineDrains }, (_, i) => `bench_${name}_baseline_${i + 1}`),
  };
  const { table, publication } = provisioned;
  await servers.sourcePool.query(`
    drop publication if exists ${publication};
    drop table if exists ${table};
    create table ${table} (
      id bigint primary key,
      account_id int not null,
      amount numeric(12,2) not null,
      status text not null,
      note text,
      updated_at timestamptz not null default now()
    );
    alter table ${table} replica identity full;
    create publication ${publication} for table ${table}${await publicationOptionsSql(servers.sourcePool)};
  `);
  for (const slot of [provisioned.retraceSlot, ...provisioned.baselineSlots]) {
    await servers.sourcePool.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
  }
  return provisioned;
}

/** Registers the source in the store as the web app does; returns its id. */
export async function registerSource(servers: BenchServers, provisioned: Provisioned): Promise<string> {
  const { rows } = await servers.storePool.query<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, ssl_mode, environment,
                          slot_name, publication_name)
     values ($1, 'localhost', $2, 'app', 'postgres', $3, 'disable', 'benchmark', $4, $5) returning id`,
    [
      provisioned.table,
      servers.source.port,
      encryptSecret(servers.source.password, BENCH_SECRET),
      provisioned.retraceSlot,
      provisioned.publication,
    ],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error("no source id");
  await servers.storePool.query("insert into tracked_tables (source_id, schema, \"table\") values ($1, 'public', $2)", [
    id,
    provisioned.table,
  ]);
  return id;
}

export async function currentWalLsn(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
  if (!rows[0]) throw new Error("no WAL position");
  return rows[0].lsn;
}

/**
 * Runs the workload's last transaction with synchronous commit (so everything written before it
 * is flushed, and therefore visible to walsenders) and returns the WAL insert position just
 * before its COMMIT: the store holds the whole workload once the source's checkpoint (the commit
 * LSN of the last stored transaction) reaches it.
 */
export async function lastTransaction(client: pg.Client, sql: string, params: unknown[]): Promise<string> {
  await client.query("set synchronous_commit = on");
  await client.query("begin");
  try {
    await client.query(sql, params);
    const { rows } = await client.query<{ lsn: string }>("select pg_current_wal_insert_lsn()::text as lsn");
    await client.query("commit");
    if (!rows[0]) throw new Error("no WAL position");
    return rows[0].lsn;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

async function dropSlot(servers: BenchServers, slot: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await servers.sourcePool.query(
        "select pg_terminate_backend(active_pid) from pg_replication_slots " +
          "where slot_name = $1 and active_pid is not null",
        [slot],
      );
      await servers.sourcePool.query(
        "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1",
        [slot],
      );
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Removes everything a workload left: slots, publication, table, the source and its changes. */
export async function teardown(
  servers: BenchServers,
  provisioned: Provisioned,
  sourceId: string | null,
): Promise<void> {
  for (const slot of [provisioned.retraceSlot, ...provisioned.baselineSlots]) await dropSlot(servers, slot);
  await servers.sourcePool.query(
    `drop publication if exists ${provisioned.publication}; drop table if exists ${provisioned.table}`,
  );
  if (sourceId) {
    // Truncate rather than delete: the next workload starts from an empty audit table.
    await servers.storePool.query("truncate changes, change_segments, trail_tables");
    await servers.storePool.query("delete from sources where id = $1", [sourceId]);
  }
  await Promise.all([servers.sourcePool.query("checkpoint"), servers.storePool.query("vacuum analyze")]);
}
