import crypto from "node:crypto";
import type pg from "pg";
import { decoderFor, isJsonNull, isJsonType, type Decoder } from "../replication/decode";
import { OUTPUT_SETTINGS } from "../replication/plugin";
import { resolveType } from "../replication/types";
import { catalogTypes } from "../sources/catalog-types";
import { openSourceClient, type SourceConnection } from "../sources/connection";
import { quoteIdent } from "../sources/sql";

/** A row of a baseline: the key as `changes.primary_key` holds it, the image as the worker writes it. */
export type BaselineRow = { primaryKey: string; image: string; jsonNullFields: string[] | null };

/** Where the copy stands: every transaction committed before `consistentLsn` is in it, none after it. */
export type SnapshotInfo = { consistentLsn: string; snapshotAt: string; rowsEstimated: number };

export type CopyOptions = {
  connection: SourceConnection;
  schema: string;
  table: string;
  /** Rows read and handed over at a time. */
  chunkRows: number;
  onSnapshot: (info: SnapshotInfo) => Promise<void>;
  onChunk: (rows: BaselineRow[]) => Promise<void>;
  /** Checked between chunks: true stops the copy (it throws BaselineStopped). */
  stopping?: () => boolean;
};

export class BaselineStopped extends Error {
  constructor() {
    super("baseline stopped");
  }
}

const SLOT_CREATION_TIMEOUT_MS = 10 * 60_000;

type Column = { name: string; typeOid: number; typeSql: string; decode: Decoder; json: boolean };

/**
 * Copies a source table's rows as of one exact WAL position, in keyset chunks. A temporary logical slot is created
 * on a replication connection with an exported snapshot (what PostgreSQL's own logical replication does for a new
 * subscription's initial copy): its consistent point is a commit position, so every transaction is either in the
 * copy (committed before it) or in the stream after it, never both and never neither. A REPEATABLE READ READ ONLY
 * transaction imports that snapshot and reads the table by its primary key, chunk by chunk; it holds only an
 * ACCESS SHARE lock (writes go on; DDL on the table waits), and the slot is dropped as soon as the snapshot is
 * imported, so no WAL is held back for the copy's sake. Values are printed with the replication session's settings
 * and decoded by the worker's decoders, so a row reads exactly as a change of it would.
 */
export async function copyBaseline(options: CopyOptions): Promise<void> {
  const { connection } = options;
  const { client: replication } = await openSourceClient(connection, {
    replication: true,
    applicationName: "retrace-baseline",
    // Creating the slot waits for the transactions running at the source to end: minutes on a busy one.
    queryTimeoutMs: SLOT_CREATION_TIMEOUT_MS,
  });
  let reader: pg.Client | null = null;
  try {
    const version = Number((await replication.query<{ v: string }>("show server_version_num")).rows[0]?.v ?? "0");
    const slot = `retrace_baseline_${crypto.randomBytes(8).toString("hex")}`;
    const exportClause = version >= 150000 ? "(SNAPSHOT 'export')" : "EXPORT_SNAPSHOT";
    const created = await replication.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput ${exportClause}`,
    );
    const point = created.rows[0];
    if (!point?.snapshot_name) throw new Error("the source exported no snapshot");
    reader = (await openSourceClient(connection, { applicationName: "retrace-baseline" })).client;
    await reader.query("begin isolation level repeatable read read only");
    await reader.query(`set transaction snapshot '${point.snapshot_name.replace(/'/g, "''")}'`);
    for (const [name, value] of OUTPUT_SETTINGS) await reader.query("select set_config($1, $2, true)", [name, value]);
    // The snapshot is ours now: the slot (and the WAL it would hold) can go.
    await replication.end().catch(() => undefined);
    const relation = `${quoteIdent(options.schema)}.${quoteIdent(options.table)}`;
    const { columns, keys } = await describeTable(reader, relation, version);
    const estimate = await reader.query<{ n: string }>(
      `select coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint::text as n
         from pg_partition_tree($1::regclass) t join pg_class c on c.oid = t.relid where t.isleaf`,
      [relation],
    );
    // A table never analyzed has no estimate: count it in the snapshot (one scan) so progress means something.
    const estimated = Number(estimate.rows[0]?.n ?? 0);
    const rowsEstimated =
      estimated > 0
        ? estimated
        : Number((await reader.query<{ n: string }>(`select count(*)::text as n from ${relation}`)).rows[0]?.n ?? 0);
    const snapshotAt = await reader.query<{ at: string }>(
      `select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`,
    );
    await options.onSnapshot({
      consistentLsn: point.consistent_point,
      snapshotAt: snapshotAt.rows[0]?.at ?? new Date().toISOString(),
      rowsEstimated,
    });
    await readChunks(reader, relation, columns, keys, options);
    await reader.query("commit");
  } finally {
    await replication.end().catch(() => undefined);
    await reader?.end().catch(() => undefined);
  }
}

/** The table's columns (as its images hold them, in column order) and its key columns in key order. */
async function describeTable(client: pg.Client, relation: string, version: number) {
  const found = await client.query<{ name: string; type_oid: string; type_sql: string; generated: string }>(
    `select a.attname::text as name, a.atttypid::text as type_oid,
            format_type(a.atttypid, a.atttypmod) as type_sql, a.attgenerated::text as generated
       from pg_attribute a
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [relation],
  );
  // Stored generated columns are published from PostgreSQL 18 on (lib/sources/publication.ts); virtual ones never.
  const published = found.rows.filter((row) => row.generated === "" || (row.generated === "s" && version >= 180000));
  const typeOids = [...new Set(published.map((row) => Number(row.type_oid)))];
  const catalog = await catalogTypes(client, typeOids);
  const columns: Column[] = published.map((row) => {
    const type = resolveType(Number(row.type_oid), catalog);
    return {
      name: row.name,
      typeOid: Number(row.type_oid),
      typeSql: row.type_sql,
      decode: decoderFor(type),
      json: isJsonType(type),
    };
  });
  const key = await client.query<{ name: string }>(
    `select a.attname::text as name
       from pg_index i
       cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1::regclass and i.indisprimary and k.position <= i.indnkeyatts
      order by k.position`,
    [relation],
  );
  const keys = key.rows.map((row) => {
    const column = columns.find((c) => c.name === row.name);
    if (!column) throw new Error(`key column ${row.name} is not published`);
    return column;
  });
  if (keys.length === 0) throw new Error("the table has no primary key, so its rows cannot be told apart");
  return { columns, keys };
}

async function readChunks(
  client: pg.Client,
  relation: string,
  columns: Column[],
  keys: Column[],
  options: CopyOptions,
): Promise<void> {
  // Qualified by the table's alias: a bare name in ORDER BY would mean the output column (the key's text).
  const keyList = keys.map((k) => `t.${quoteIdent(k.name)}`).join(", ");
  const select = [
    ...keys.map((k, i) => `t.${quoteIdent(k.name)}::text as k${i}`),
    ...columns.map((c, i) => `t.${quoteIdent(c.name)}::text as v${i}`),
  ].join(", ");
  const bound = keys.map((k, i) => `$${i + 1}::${k.typeSql}`).join(", ");
  const first = `select ${select} from ${relation} t order by ${keyList} limit ${options.chunkRows}`;
  const next =
    `select ${select} from ${relation} t where (${keyList}) > (${bound}) ` +
    `order by ${keyList} limit ${options.chunkRows}`;
  let last: (string | null)[] | null = null;
  for (;;) {
    if (options.stopping?.()) throw new BaselineStopped();
    const result: pg.QueryResult<(string | null)[]> = await client.query({
      text: last === null ? first : next,
      values: last ?? [],
      rowMode: "array",
    });
    if (result.rows.length === 0) return;
    await options.onChunk(result.rows.map((values) => toBaselineRow(values, columns, keys.length)));
    const lastRow = result.rows.at(-1);
    last = lastRow ? lastRow.slice(0, keys.length) : null;
    if (result.rows.length < options.chunkRows) return;
  }
}

function toBaselineRow(values: (string | null)[], columns: Column[], keyCount: number): BaselineRow {
  const keyTexts = values.slice(0, keyCount).map((value) => value ?? "");
  let image = "";
  let jsonNulls: string[] | null = null;
  columns.forEach((column, index) => {
    const value = values[keyCount + index] ?? null;
    image += `${image === "" ? "{" : ","}${JSON.stringify(column.name)}:`;
    if (value === null) {
      image += "null";
      return;
    }
    image += column.decode(value);
    if (column.json && isJsonNull(value)) (jsonNulls ??= []).push(column.name);
  });
  return {
    primaryKey: keyTexts.length === 1 ? (keyTexts[0] ?? "") : JSON.stringify(keyTexts),
    image: image === "" ? "{}" : `${image}}`,
    jsonNullFields: jsonNulls,
  };
}
