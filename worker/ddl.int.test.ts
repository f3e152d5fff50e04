/**
 * DDL in the middle of the stream: every change must be captured with the columns its table had
 * when the change was made (pgoutput resends a relation message after DDL; the worker must
 * follow it), whether the worker streams along or decodes the whole history later.
 *
 * Ground truth is recorded at the source, in the same transactions: an AFTER ROW trigger on
 * every table writes to_jsonb(OLD/NEW) (the row with the columns of that moment), the primary
 * key per the catalog of that moment, and the xid into an unpublished `truth` table. The store
 * must hold exactly that: per source transaction, the same changes in the same order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addSource, startServers, type Servers } from "../test/support/servers";
import { recordTruth, TRUTH_SETUP } from "../test/support/truth";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

const PUBLICATION = "ddl_pub";

const truthTrigger = (table: string) => recordTruth(table, { publication: PUBLICATION });

const tracked = (table: string) => `alter table ${table} replica identity full; ${truthTrigger(table)}`;

/**
 * One source transaction per entry (a multi-statement query runs as one transaction). `t` is
 * the table that lives through every DDL, `late` a table created after the slot.
 */
function script(t: string, late: string): string[] {
  return [
    "insert into T values (1, 'one')",
    "update T set a = 'uno' where id = 1",
    "alter table T add column b int",
    "insert into T values (2, 'two', 20); update T set b = 10 where id = 1",
    "alter table T add column c text default 'dflt'",
    // Row 1 was written before c existed: its old image must carry the default.
    "update T set b = 11 where id = 1",
    "insert into T (id, a, b) values (3, 'three', 30)",
    "alter table T drop column a",
    "update T set b = 21 where id = 2; insert into T values (4, 40, 'four')",
    "alter table T rename column b to bee",
    "update T set bee = 31 where id = 3; delete from T where id = 1",
    "alter table T alter column id type bigint",
    "insert into T values (1099511627776, 50, 'big'); update T set bee = 51 where id = 1099511627776",
    "alter table T alter column c drop default, alter column c type int using length(c)",
    "insert into T values (6, 60, 6); update T set c = c + 1 where id = 4",
    "alter table T drop constraint T_pkey",
    "insert into T values (7, 70, 7); update T set bee = 71 where id = 7",
    "alter table T add primary key (id, bee)",
    "insert into T values (8, 80, 8); delete from T where id = 7; update T set bee = 81 where id = 8",
    // DDL between the changes of one transaction.
    "insert into T values (9, 90, 9); alter table T add column late text default 'late default'; " +
      "insert into T values (10, 100, 10, 'x'); update T set late = 'y' where id = 9",
    "alter table T add column d int; alter table T alter column d set default 5; " +
      "insert into T (id, bee, c) values (11, 110, 11); update T set d = null where id = 11",
    "alter table T drop column late, add column e jsonb default '{\"k\": [1, 2]}'; update T set c = 0 where id = 2",
    `create table L (k text primary key, v int); ${tracked("L")} insert into L values ('before publication', 0)`,
    `alter publication ${PUBLICATION} add table L`,
    "insert into L values ('k1', 1); update L set v = 2 where k = 'k1'; delete from L where k = 'before publication'",
    "alter table L add column w text; update L set w = 'w' where k = 'k1'; delete from L where k = 'k1'",
  ].map((sql) =>
    sql
      .replaceAll(/\bT\b/g, t)
      .replaceAll(/\bT_pkey\b/g, `${t}_pkey`)
      .replaceAll(/\bL\b/g, late),
  );
}

let servers: Servers;
let sourceId: string;
let worker: Worker | null = null;

function start(): void {
  worker = startTestWorker(servers);
}

async function stop(): Promise<void> {
  await worker?.stop();
  worker = null;
}

type Change = {
  xid: string;
  table: string;
  op: string;
  pk: string | null;
  before: string | null;
  after: string | null;
  changed: string[] | null;
};

async function truth(tables: string[]): Promise<Change[]> {
  return servers.sourceQuery<Change>(
    `select xid::text as xid, tbl as table, op, pk, before::text as before, after::text as after,
            case when op = 'UPDATE' then array(select key from jsonb_each(after) a
                                                where a.value is distinct from before -> a.key order by key)
            end as changed
       from truth where tbl = any($1) order by n`,
    [tables],
  );
}

async function stored(tables: string[]): Promise<Change[]> {
  return servers.storeQuery<Change>(
    `select transaction_id::text as xid, "table" as table, operation::text as op, primary_key as pk,
            before::jsonb::text as before, after::jsonb::text as after,
            (select array_agg(f order by f) from unnest(changed_fields) f) as changed
       from changes where source_id = $1 and "table" = any($2) order by commit_lsn, seq`,
    [sourceId, tables],
  );
}

async function caughtUp(tables: string[]): Promise<void> {
  const expected = (await truth(tables)).length;
  await waitFor(`${expected} changes of ${tables.join(", ")}`, async () => (await stored(tables)).length >= expected, {
    timeoutMs: 20_000,
  }).catch(async (error: unknown) => {
    const [row] = await servers.storeQuery<{ last_error: string | null }>(
      "select last_error from sources where id = $1",
      [sourceId],
    );
    throw new Error(`${String(error)} (last error: ${row?.last_error ?? "none"})`);
  });
}

/** Changes grouped per source transaction, in order; transactions in commit order. */
type Compared = Omit<Change, "xid" | "pk"> & { pk?: string | null };

function byTransaction(changes: Change[], withKeys: boolean): Array<[string, Compared[]]> {
  const groups = new Map<string, Compared[]>();
  for (const { xid, pk, ...change } of changes) {
    const list = groups.get(xid) ?? [];
    list.push(withKeys ? { ...change, pk } : change);
    groups.set(xid, list);
  }
  return [...groups.entries()];
}

async function expectExactly(tables: string[], options: { withKeys: boolean }): Promise<void> {
  await caughtUp(tables);
  const [expected, actual] = await Promise.all([truth(tables), stored(tables)]);
  expect(actual.length).toBe(expected.length);
  expect(byTransaction(actual, options.withKeys)).toEqual(byTransaction(expected, options.withKeys));
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    ${TRUTH_SETUP}
    create table live_t (id int primary key, a text); ${tracked("live_t")}
    create table lag_t (id int primary key, a text); ${tracked("lag_t")}
    create table keys_t (id int primary key, a text); ${tracked("keys_t")}
    -- REPLICA IDENTITY DEFAULT: the stream flags the primary key as of each change.
    create table keys_d (id int primary key, a text); ${truthTrigger("keys_d")}
    create table keys_kept (x int, y text, v int, primary key (y, x)); ${truthTrigger("keys_kept")}
    create publication ${PUBLICATION} for table live_t, lag_t, keys_t, keys_d, keys_kept;
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot('ddl_slot', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "ddl_slot", publicationName: PUBLICATION, host: "127.0.0.1" });
});

afterAll(async () => {
  await stop();
  await servers?.stop();
});

describe("DDL mid-stream", () => {
  it("captures each change with its table's columns and key of that moment, streaming along", async () => {
    start();
    const tables = ["live_t", "late_live"];
    for (const sql of script("live_t", "late_live")) {
      await servers.sourceQuery(sql);
      // One step at a time: the worker reads the catalog (for keys) right after the DDL.
      await caughtUp(tables);
    }
    await expectExactly(tables, { withKeys: true });
    const [late] = await stored(["late_live"]);
    expect(late).toMatchObject({ op: "CREATE", pk: "k1" });
  });

  it("captures each change with its table's columns of that moment when it decodes the history later", async () => {
    await stop();
    const tables = ["lag_t", "late_lag"];
    for (const sql of script("lag_t", "late_lag")) await servers.sourceQuery(sql);
    start();
    await expectExactly(tables, { withKeys: false });
  });

  /**
   * Key history of a table, to be decoded later: renamed, dropped, composite (declared out of column order),
   * replaced.
   */
  const keyHistory = (table: string) => [
    `insert into ${table} values (1, 'a')`,
    `alter table ${table} rename column id to ident`,
    `insert into ${table} values (2, 'b'); update ${table} set a = 'bb' where ident = 2`,
    `alter table ${table} drop constraint ${table}_pkey`,
    `insert into ${table} values (3, 'c')`,
    `alter table ${table} add primary key (a, ident)`,
    `insert into ${table} values (4, 'd'); delete from ${table} where ident = 1`,
    `alter table ${table} drop constraint ${table}_pkey, add primary key (a)`,
    `insert into ${table} values (5, 'e'); delete from ${table} where ident = 4`,
  ];

  type KeyedChange = Pick<Change, "xid" | "op" | "pk" | "after">;
  const keyed = (changes: Change[]): KeyedChange[] => changes.map(({ xid, op, pk, after }) => ({ xid, op, pk, after }));

  it(
    "takes each change's primary key as of the change when it decodes the history later " +
      "(REPLICA IDENTITY DEFAULT)",
    async () => {
      await stop();
      for (const sql of keyHistory("keys_d")) await servers.sourceQuery(sql);
      await servers.sourceQuery(
        "insert into keys_kept values (1, 'k', 0); update keys_kept set v = 1 where x = 1; " +
          "delete from keys_kept where x = 1",
      );
      start();
      const tables = ["keys_d", "keys_kept"];
      await caughtUp(tables);
      const [expected, actual] = await Promise.all([truth(tables), stored(tables)]);
      // Before images are key-only without REPLICA IDENTITY FULL: compare what the stream carries.
      expect(actual.map((c) => c.pk)).toEqual([
        "1",
        "2",
        "2",
        null,
        // (a, ident) is gone when these are decoded: the stream names the key's columns but not
        // their declared order, so they come in table column order (the truth says ["d","4"] and
        // ["a","1"]).
        '["4","d"]',
        '["1","a"]',
        "e",
        "d",
        // keys_kept still has its key (y, x) when decoded: declared order.
        '["k","1"]',
        '["k","1"]',
        '["k","1"]',
      ]);
      const inDeclaredOrder = (change: KeyedChange) =>
        change.pk === '["4","d"]'
          ? { ...change, pk: '["d","4"]' }
          : change.pk === '["1","a"]'
            ? { ...change, pk: '["a","1"]' }
            : change;
      expect(keyed(actual).map(inDeclaredOrder)).toEqual(keyed(expected));
    },
  );

  it(
    "labels old changes of a REPLICA IDENTITY FULL table with the primary key of decode time " + "(documented limit)",
    async () => {
      // With FULL every column is flagged as key, so the stream has no key history: the key comes
      // from the source catalog when the relation message is handled. Streaming along that is the
      // key of the moment (first test); decoded later, it is the current one.
      await stop();
      for (const sql of keyHistory("keys_t")) await servers.sourceQuery(sql);
      start();
      await expectExactly(["keys_t"], { withKeys: false });
      expect((await truth(["keys_t"])).map((c) => c.pk)).toEqual([
        "1",
        "2",
        "2",
        null,
        '["d","4"]',
        '["a","1"]',
        "e",
        "d",
      ]);
      // The current key is (a): every change is labelled with its `a`.
      expect((await stored(["keys_t"])).map((c) => c.pk)).toEqual(["a", "b", "bb", "c", "d", "a", "e", "d"]);
    },
  );
});
