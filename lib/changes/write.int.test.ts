import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore } from "../db/client";
import { migrateStore } from "../db/migrate";
import type { ChangeRow } from "../replication/change-row";
import { startTestServer, type TestServer } from "../../test/support/postgres";
import { StoreTransaction, type WriteMode } from "./write";

let server: TestServer;
let pool: pg.Pool;
let sourceId: string;

beforeAll(async () => {
  server = await startTestServer();
  await migrateStore(server.url());
  // connectStore's pool ignores the FATAL a closing client can still get when the server stops
  // right after pool.end(): pool.end() resolves before its clients' sockets close.
  pool = connectStore(server.url(), { max: 4 }).pool;
  const { rows } = await pool.query<{ id: string }>(
    `insert into sources (name, environment, host, port, database, username, password_encrypted,
                          slot_name, publication_name)
     values ('w', 'production', 'h', 5432, 'shop', 'u', 'x', 'write_test', 'p') returning id::text as id`,
  );
  sourceId = rows[0]?.id ?? "";
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

let lsn = 0x1000;
/** A row of its own source transaction (fresh commit LSN), with text that COPY's text format would escape. */
function awkwardRow(overrides: Partial<ChangeRow> = {}): ChangeRow {
  lsn += 0x100;
  return {
    environment: "prod\tuction",
    database: "shop\\main",
    schema: "we\nird",
    table: 'or"ders\r',
    primaryKey: '["a\\tb","c"]',
    operation: "UPDATE",
    before: '{"zeta":"tab\\there","a":1.50,"quote":"\\"","back":"\\\\"}',
    // A raw tab and newline as JSON whitespace (a json column's value is kept as it was typed).
    after: '{"zeta":"line\\nbreak",\t"a":1.500000000000000000000000000000000000001,\n"raw":"x"}',
    changedFields: ["zeta", 'a"b', "c\\d", "{e,f}", "", "NULL"],
    unavailableFields: [],
    // JSON null in before (one name COPY's text format would escape), none in after.
    beforeJsonNullFields: ["zeta", 'j"s\\on\t'],
    afterJsonNullFields: null,
    partitionSchema: null,
    partitionTable: null,
    bucket: "",
    context: '{"user":"ann\\\\o\'neil","job":"x\\ty"}',
    transactionId: "4294967295",
    commitLsn: `0/${lsn.toString(16).toUpperCase()}`,
    seq: 0,
    committedAt: "2024-05-06T07:08:09.123456Z",
    queuedAt: "2024-05-06T07:08:10.000001Z",
    ...overrides,
  };
}

type Stored = Record<string, unknown>;

async function stored(commitLsn: string): Promise<Stored[]> {
  const { rows } = await pool.query<Stored>(
    `select environment, database, schema, "table", primary_key, operation::text as operation, before::text as before,
            after::text as after, changed_fields, unavailable_fields, before_json_null_fields,
            after_json_null_fields, partition_schema, partition_table, context::text as context,
            transaction_id::text as transaction_id, seq,
            to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as committed_at
       from changes where source_id = $1 and commit_lsn = $2::pg_lsn order by seq`,
    [sourceId, commitLsn],
  );
  return rows;
}

const checkpoint = async () =>
  (await pool.query<{ lsn: string }>("select checkpoint_lsn::text as lsn from sources where id = $1", [sourceId]))
    .rows[0]?.lsn;

describe.each<WriteMode>(["copy", "insert"])("StoreTransaction (%s)", (mode) => {
  it("stores every value exactly as given, whatever it contains, and the checkpoint with it", async () => {
    const row = awkwardRow();
    const other = awkwardRow({
      seq: 0,
      operation: "DELETE",
      before: null,
      after: null,
      changedFields: null,
      primaryKey: null,
      context: "{}",
      beforeJsonNullFields: null,
    });
    // A TRUNCATE of one partition names it (in text COPY's text format would escape).
    const cut = awkwardRow({
      ...other,
      seq: 1,
      operation: "TRUNCATE",
      commitLsn: other.commitLsn,
      partitionSchema: "we\nird",
      partitionTable: 'meas_"2024"\t',
    });
    const transaction = new StoreTransaction(pool, sourceId, mode);
    await transaction.send([row]);
    await transaction.send([other, cut]);
    expect(await stored(row.commitLsn)).toEqual([]); // nothing visible before the commit
    expect(await transaction.commit(other.commitLsn, other.committedAt)).toEqual({ inserted: 3 });

    expect(await stored(row.commitLsn)).toEqual([
      {
        environment: row.environment,
        database: row.database,
        schema: row.schema,
        table: row.table,
        primary_key: row.primaryKey,
        operation: "UPDATE",
        before: row.before, // json: the text as written, key order and digits included
        after: row.after,
        changed_fields: row.changedFields,
        unavailable_fields: null,
        before_json_null_fields: row.beforeJsonNullFields,
        after_json_null_fields: null,
        partition_schema: null,
        partition_table: null,
        context: '{"job": "x\\ty", "user": "ann\\\\o\'neil"}', // jsonb's own text form
        transaction_id: "4294967295",
        seq: 0,
        committed_at: "2024-05-06T07:08:09.123456Z",
      },
    ]);
    const [deleted, truncated] = await stored(other.commitLsn);
    // No context is stored as NULL (the API shows it as {}).
    expect(deleted).toMatchObject({
      operation: "DELETE",
      before: null,
      after: null,
      changed_fields: null,
      primary_key: null,
      context: null,
      partition_schema: null,
      partition_table: null,
    });
    expect(truncated).toMatchObject({
      operation: "TRUNCATE",
      partition_schema: "we\nird",
      partition_table: 'meas_"2024"\t',
    });
    expect(await checkpoint()).toBe(other.commitLsn);
  });

  it("keeps an empty changed-field list apart from none, and lists unavailable fields", async () => {
    const row = awkwardRow({ changedFields: [], unavailableFields: ["big\tdoc"] });
    const transaction = new StoreTransaction(pool, sourceId, mode);
    await transaction.send([row]);
    await transaction.commit(row.commitLsn, row.committedAt);
    const [change] = await stored(row.commitLsn);
    expect(change).toMatchObject({ changed_fields: [], unavailable_fields: ["big\tdoc"] });
  });

  it("refuses to commit while a batch is still being handed over (its rows would be left out)", async () => {
    const [first, second, third] = [awkwardRow(), awkwardRow(), awkwardRow()];
    const transaction = new StoreTransaction(pool, sourceId, mode);
    await transaction.send([first]);
    await transaction.send([second]);
    const sending = transaction.send([third]); // two batches ahead of it: waits for the first
    await expect(transaction.commit(third.commitLsn, third.committedAt)).rejects.toThrow(
      "while a batch was being sent",
    );
    await sending;
    await transaction.abort();
    expect(await stored(first.commitLsn)).toEqual([]);
  });

  it("stores batches sent back to back in the order sent, ids included", async () => {
    // The second batch is sent while the first one's store transaction is still opening (its
    // connection checked out, BEGIN on its way), the third behind the second (in copy mode: on
    // the wire behind it while it runs).
    const batches = [0, 1, 2, 3].map(() => Array.from({ length: 300 }, (_, seq) => awkwardRow({ seq })));
    const transaction = new StoreTransaction(pool, sourceId, mode);
    for (const batch of batches) {
      await transaction.send(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const last = batches[3]?.[299] as ChangeRow;
    expect(await transaction.commit(last.commitLsn, last.committedAt)).toEqual({ inserted: 1200 });
    const lsns = batches.flat().map((row) => row.commitLsn);
    const { rows } = await pool.query<{ commit_lsn: string; seq: number }>(
      "select commit_lsn::text as commit_lsn, seq from changes " +
        "where source_id = $1 and commit_lsn = any($2::pg_lsn[]) order by id",
      [sourceId, lsns],
    );
    expect(rows.map((row) => `${row.commit_lsn}#${row.seq}`)).toEqual(
      batches.flat().map((row) => `${row.commitLsn}#${row.seq}`),
    );
    expect(await checkpoint()).toBe(last.commitLsn);
  });

  it("leaves nothing behind when aborted", async () => {
    const row = awkwardRow();
    const transaction = new StoreTransaction(pool, sourceId, mode);
    await transaction.send([row]);
    await transaction.abort();
    expect(await stored(row.commitLsn)).toEqual([]);
  });

  it("refuses to commit rows of a source deleted meanwhile", async () => {
    const { rows } = await pool.query<{ id: string }>(
      `insert into sources (name, environment, host, port, database, username, password_encrypted,
                            slot_name, publication_name)
       values ('gone', 'production', 'h', 5432, 'shop', 'u', 'x', $1, 'p') returning id::text as id`,
      [`gone_${mode}`],
    );
    const gone = rows[0]?.id ?? "";
    const row = awkwardRow();
    const transaction = new StoreTransaction(pool, gone, mode);
    await transaction.send([row]);
    await pool.query("delete from sources where id = $1", [gone]);
    await expect(transaction.commit(row.commitLsn, row.committedAt)).rejects.toThrow("Source no longer exists");
    const { rows: left } = await pool.query("select 1 from changes where source_id = $1", [gone]);
    expect(left).toEqual([]);
  });
});

describe("a row stored twice", () => {
  it(
    "fails COPY on the unique index (nothing of that store transaction commits), " + "and is skipped by insert mode",
    async () => {
      const row = awkwardRow();
      const first = new StoreTransaction(pool, sourceId, "copy");
      await first.send([row]);
      await first.commit(row.commitLsn, row.committedAt);

      const fresh = awkwardRow();
      const behind = awkwardRow();
      const again = new StoreTransaction(pool, sourceId, "copy");
      await again.send([fresh]);
      await again.send([row]);
      // Sent while the failing batch may be on the wire: it fails with it, stores nothing.
      await again.send([behind]).catch(() => undefined);
      await expect(again.commit(row.commitLsn, row.committedAt)).rejects.toMatchObject({ code: "23505" });
      expect(await stored(fresh.commitLsn)).toEqual([]);
      expect(await stored(behind.commitLsn)).toEqual([]);
      // Its connection went back to the pool (closed): the pool still serves every client.
      const clients = await Promise.all([0, 1, 2, 3].map(() => pool.connect()));
      for (const client of clients) client.release();

      const replay = new StoreTransaction(pool, sourceId, "insert");
      await replay.send([fresh, row]);
      expect(await replay.commit(fresh.commitLsn, fresh.committedAt)).toEqual({ inserted: 1 });
      expect(await stored(row.commitLsn)).toHaveLength(1);
      expect(await stored(fresh.commitLsn)).toHaveLength(1);
    },
  );
});

describe.each<WriteMode>(["copy", "insert"])("values at the edges (%s)", (mode) => {
  it("stores unicode, empty strings, NULL and empty arrays, and extreme ids, LSNs and times exactly", async () => {
    const { rows: created } = await pool.query<{ id: string }>(
      `insert into sources (name, environment, host, port, database, username, password_encrypted,
                            slot_name, publication_name)
       values ('edges', 'production', 'h', 5432, 'shop', 'u', 'x', $1, 'p') returning id::text as id`,
      [`edges_${mode}`],
    );
    const source = created[0]?.id ?? "";
    // Every row of a batch comes from one source, so shares its environment and database (insert
    // mode sends them once a batch): the first batch is the row of empty strings alone.
    const base = { ...awkwardRow(), environment: "prød 😀", database: "δβ\\N" };
    // In commit LSN order, as they are read back; each with the text jsonb prints for its context.
    const cases: { row: ChangeRow; context: string | null }[] = [
      {
        row: {
          ...base,
          environment: "",
          database: "",
          schema: "",
          table: "",
          primaryKey: "",
          operation: "CREATE",
          before: '""',
          after: "{}",
          changedFields: [""],
          unavailableFields: [],
          beforeJsonNullFields: null,
          afterJsonNullFields: [""],
          context: '{"":""}',
          transactionId: "0",
          commitLsn: "0/10",
          seq: 0,
          committedAt: "1969-12-31T23:59:59.999999Z",
          queuedAt: "1900-01-01T00:00:00.000001Z",
        },
        context: '{"": ""}',
      },
      {
        row: {
          ...base,
          schema: "схема",
          table: "表😀\t\n\\\"'",
          primaryKey: "\\N",
          operation: "UPDATE",
          before: '{"name":"Zoë 😀","esc":"\\u00e9\\ud83d\\ude00","quote":"\\"\\\\"}',
          after: '{"name":"𝒳 x",\t\n"n":1.50}', // raw tab and newline as json whitespace
          changedFields: ["é", "😀", "tab\tnew\nline", 'q"uote', "back\\slash", "{a,b}", "NULL"],
          unavailableFields: ["𝒳", "big doc"],
          beforeJsonNullFields: ["é", "😀", "NULL"],
          afterJsonNullFields: ["𝒳"],
          context: '{"user":"Zoë 😀","n":1,"note":"a\\tb\\nc"}',
          transactionId: "4294967295",
          commitLsn: "1/0",
          seq: 0,
          committedAt: "2026-11-22T22:00:00.123456Z",
          queuedAt: "2026-11-22T22:00:00.000001Z",
        },
        context: '{"n": 1, "note": "a\\tb\\nc", "user": "Zoë 😀"}',
      },
      {
        row: {
          ...base,
          operation: "UPDATE",
          changedFields: [],
          unavailableFields: [],
          commitLsn: "1/0",
          seq: 1,
          committedAt: "2026-11-22T22:00:00.123456Z",
          queuedAt: "2026-11-22T22:00:01.000000Z",
        },
        context: '{"job": "x\\ty", "user": "ann\\\\o\'neil"}',
      },
      {
        row: {
          ...base,
          operation: "TRUNCATE",
          primaryKey: null,
          before: null,
          after: null,
          changedFields: null,
          unavailableFields: [],
          beforeJsonNullFields: null,
          afterJsonNullFields: null,
          partitionSchema: "схема",
          partitionTable: "表😀\\N",
          context: "{}",
          transactionId: "9223372036854775807",
          commitLsn: "FFFFFFFF/FFFFFFFE",
          seq: 2147483647,
          committedAt: "1999-12-31T23:59:59.999999Z",
          queuedAt: "2000-01-01T00:00:00.000000Z",
        },
        context: null,
      },
    ];
    const rows = cases.map(({ row }) => row);
    const transaction = new StoreTransaction(pool, source, mode);
    await transaction.send(rows.slice(0, 1));
    await transaction.send(rows.slice(1));
    expect(await transaction.commit("0/1", null)).toEqual({ inserted: rows.length });

    const { rows: storedRows } = await pool.query<Stored>(
      `select source_id::text as source_id, environment, database, schema, "table", primary_key,
              operation::text as operation, before::text as before, after::text as after,
              changed_fields, unavailable_fields, before_json_null_fields, after_json_null_fields,
              partition_schema, partition_table, context::text as context, transaction_id::text as transaction_id,
              commit_lsn::text as commit_lsn, seq,
              to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as committed_at,
              to_char(queued_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as queued_at
         from changes where source_id = $1 order by commit_lsn, seq`,
      [source],
    );
    expect(storedRows).toEqual(
      cases.map(({ row, context }) => ({
        source_id: source,
        environment: row.environment,
        database: row.database,
        schema: row.schema,
        table: row.table,
        primary_key: row.primaryKey,
        operation: row.operation,
        before: row.before,
        after: row.after,
        changed_fields: row.changedFields,
        unavailable_fields: row.unavailableFields.length > 0 ? row.unavailableFields : null,
        before_json_null_fields: row.beforeJsonNullFields,
        after_json_null_fields: row.afterJsonNullFields,
        partition_schema: row.partitionSchema,
        partition_table: row.partitionTable,
        context,
        transaction_id: row.transactionId,
        commit_lsn: row.commitLsn,
        seq: row.seq,
        committed_at: row.committedAt,
        queued_at: row.queuedAt,
      })),
    );
  });
});

describe.each<WriteMode>(["copy", "insert"])("the change summary (%s)", (mode) => {
  /** Per table and minute, the counts the segments hold and the counts of the rows themselves. */
  async function summaryAndRecount(source: string) {
    const key = `schema || '.' || "table" || ' ' || to_char(minute at time zone 'UTC', 'HH24:MI')`;
    const { rows: summary } = await pool.query<{ key: string; counts: string }>(
      `select ${key} as key, sum(creates) || '/' || sum(updates) || '/' || sum(deletes) || '/' || sum(truncates)
              || ' ' || (select coalesce(jsonb_object_agg(k, total order by k), '{}')::text from (
                   select k, sum(v::bigint) as total from change_segments s2, jsonb_each_text(s2.fields) e(k, v)
                    where s2.source_id = s.source_id and s2.schema = s.schema and s2."table" = s."table"
                      and s2.minute = s.minute group by k) f) as counts
         from change_segments s where source_id = $1 group by source_id, schema, "table", minute order by 1`,
      [source],
    );
    const { rows: recount } = await pool.query<{ key: string; counts: string }>(
      `with c as (select *, date_trunc('minute', committed_at, 'UTC') as minute from changes where source_id = $1)
       select ${key} as key, count(*) filter (where operation = 'CREATE') || '/' ||
              count(*) filter (where operation = 'UPDATE') || '/' || count(*) filter (where operation = 'DELETE')
              || '/' || count(*) filter (where operation = 'TRUNCATE') || ' ' ||
              (select coalesce(jsonb_object_agg(k, n order by k), '{}')::text from (
                 select field as k, count(*) as n from c c2, unnest(c2.changed_fields) field
                  where c2.operation = 'UPDATE' and c2.schema = c.schema and c2."table" = c."table"
                    and c2.minute = c.minute group by field) f) as counts
         from c group by schema, "table", minute order by 1`,
      [source],
    );
    // Every row lies within the id, LSN and time ranges of a segment of its table and minute.
    const { rows: outside } = await pool.query(
      `select id from changes c where source_id = $1 and not exists (
         select 1 from change_segments s where s.source_id = c.source_id and s.schema = c.schema
            and s."table" = c."table" and s.minute = date_trunc('minute', c.committed_at, 'UTC')
            and c.id between s.min_id and s.max_id and c.commit_lsn between s.min_lsn and s.max_lsn
            and c.committed_at between s.min_at and s.max_at)`,
      [source],
    );
    return { summary, recount, outside };
  }

  it("counts each store commit's rows exactly, in its transaction, by table, minute, operation and field", async () => {
    const { rows: created } = await pool.query<{ id: string }>(
      `insert into sources (name, environment, host, port, database, username, password_encrypted,
                            slot_name, publication_name)
       values ($1, 'production', 'h', 5432, 'shop', 'u', 'x', $1, 'p') returning id::text as id`,
      [`summary_${mode}`],
    );
    const source = created[0]?.id ?? "";
    const at = (minute: number) => `2024-05-06T07:${String(minute).padStart(2, "0")}:09.123456Z`;
    const first = [
      awkwardRow({ table: "items", operation: "CREATE", changedFields: null, committedAt: at(1) }),
      awkwardRow({ table: "items", operation: "UPDATE", changedFields: ["name", "price"], committedAt: at(1) }),
      awkwardRow({ table: "items", operation: "UPDATE", changedFields: ["name"], committedAt: at(2) }),
      awkwardRow({ table: "orders", operation: "DELETE", changedFields: null, committedAt: at(2) }),
    ];
    const transaction = new StoreTransaction(pool, source, mode);
    await transaction.send(first.slice(0, 2));
    await transaction.send(first.slice(2));
    await transaction.commit(first[3]?.commitLsn ?? "", null);
    // A second store commit adds to the same segments.
    const second = [
      awkwardRow({ table: "items", operation: "UPDATE", changedFields: ["price"], committedAt: at(2) }),
      awkwardRow({ table: "orders", operation: "TRUNCATE", changedFields: null, committedAt: at(3) }),
    ];
    const next = new StoreTransaction(pool, source, mode);
    await next.send(second);
    await next.commit(second[1]?.commitLsn ?? "", null);
    // One that rolls back leaves no count behind.
    const lost = new StoreTransaction(pool, source, mode);
    await lost.send([awkwardRow({ table: "items", operation: "CREATE", committedAt: at(3) })]);
    await lost.abort();

    const { summary, recount, outside } = await summaryAndRecount(source);
    expect(summary).toEqual(recount);
    expect(summary.map((row) => row.counts)).toEqual([
      '1/1/0/0 {"name": 1, "price": 1}',
      '0/2/0/0 {"name": 1, "price": 1}',
      "0/0/1/0 {}",
      "0/0/0/1 {}",
    ]);
    expect(outside).toEqual([]);
    const { rows: tables } = await pool.query(
      `select schema, "table" from trail_tables where source_id = $1 order by "table"`,
      [source],
    );
    expect(tables).toEqual([
      { schema: "we\nird", table: "items" },
      { schema: "we\nird", table: "orders" },
    ]);
  });
});
