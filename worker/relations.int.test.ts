/**
 * What changes need from the source catalog besides their relation message:
 * - key columns when the catalog no longer has the table: changes decoded after their table was
 *   dropped (the worker was stopped, paused or behind) keep their primary key, from what the
 *   store remembers of the table;
 * - generated columns: published where the source can (PostgreSQL 18, stored ones), else listed
 *   as unavailable. The test servers run PostgreSQL 18.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectThroughRetrace,
  saveTrackedTables,
  startServers,
  trackTables,
  type Servers,
} from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

let servers: Servers;
let sourceId: string;
let worker: Worker | null = null;

type Stored = {
  table: string;
  operation: string;
  primary_key: string | null;
  before: unknown;
  after: unknown;
  unavailable_fields: string[] | null;
};

async function stored(table: string, count: number, source = sourceId): Promise<Stored[]> {
  const query = () =>
    servers.storeQuery<Stored>(
      // Images as text: numbers keep their digits (1.10 is not 1.1).
      `select "table", operation::text as operation, primary_key, before::text as before, after::text as after,
              unavailable_fields
         from changes where source_id = $1 and "table" = $2 order by commit_lsn, seq`,
      [source, table],
    );
  await waitFor(`${count} changes of ${table}`, async () => (await query()).length >= count).catch(
    async (error: unknown) => {
      const [row] = await servers.storeQuery<{ last_error: string | null }>(
        "select last_error from sources where id = $1",
        [source],
      );
      throw new Error(`${String(error)} (last error: ${row?.last_error ?? "none"})`);
    },
  );
  return query();
}

async function stopWorker(): Promise<void> {
  await worker?.stop();
  worker = null;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table seen (code text primary key, v int not null);
    create table unseen (k1 int, k2 text, v int, primary key (k2, k1));
    create table orders (id int primary key, qty int, price numeric(12, 2),
                         total numeric generated always as (qty * price) stored, note text);
    create table boxes (id int primary key, w int, h int);
    create table legacy_orders (id int primary key, qty int, price numeric(12, 2),
                                total numeric generated always as (qty * price) stored);
  `);
  sourceId = await connectThroughRetrace(servers, { tables: ["public.seen"] });
});

afterAll(async () => {
  await stopWorker();
  await servers?.stop();
});

describe("a table dropped before its changes are decoded", () => {
  it("keeps the primary key the worker last read for it", async () => {
    worker = startTestWorker(servers);
    await servers.sourceQuery("insert into seen values ('a', 1)");
    await stored("seen", 1);
    // Its key changes while the worker streams along: the worker reads (and remembers) the new one.
    await servers.sourceQuery("alter table seen drop constraint seen_pkey, add primary key (v)");
    await servers.sourceQuery("insert into seen values ('b', 2)");
    await stored("seen", 2);
    await stopWorker();

    await servers.sourceQuery("update seen set code = 'bb' where v = 2");
    await servers.sourceQuery("delete from seen where v = 1");
    await servers.sourceQuery("drop table seen");
    worker = startTestWorker(servers);
    const changes = await stored("seen", 4);
    expect(changes.map((c) => [c.operation, c.primary_key])).toEqual([
      ["CREATE", "a"],
      ["CREATE", "2"],
      ["UPDATE", "2"],
      ["DELETE", "1"],
    ]);
    expect(changes[2]).toMatchObject({ before: '{"code":"b","v":2}', after: '{"code":"bb","v":2}' });
  });

  it("keeps the primary key recorded when the table was tracked, never seen by the worker", async () => {
    await stopWorker();
    await saveTrackedTables(servers, sourceId, ["public.unseen"]);
    await servers.sourceQuery(`
      insert into unseen values (1, 'x', 0);
      update unseen set v = 1 where k1 = 1;
      delete from unseen where k1 = 1;
      drop table unseen;
    `);
    worker = startTestWorker(servers);
    const changes = await stored("unseen", 3);
    // In key order (k2, k1), as declared.
    expect(changes.map((c) => [c.operation, c.primary_key])).toEqual([
      ["CREATE", '["x","1"]'],
      ["UPDATE", '["x","1"]'],
      ["DELETE", '["x","1"]'],
    ]);
  });
});

describe("generated columns", () => {
  it("are published and recorded exactly where the source can (stored ones, PostgreSQL 18)", async () => {
    worker ??= startTestWorker(servers);
    await saveTrackedTables(servers, sourceId, ["public.orders", "public.boxes"]);
    // Tracked first: Retrace refuses to track a table that already has a virtual generated column.
    await servers.sourceQuery("alter table boxes add column area int generated always as (w * h) virtual");
    await servers.sourceQuery("insert into orders (id, qty, price, note) values (1, 2, 1.10, 'n')");
    await servers.sourceQuery("update orders set qty = 3 where id = 1");
    await servers.sourceQuery("delete from orders where id = 1");
    const changes = await stored("orders", 3);
    expect(changes.map((c) => [c.operation, c.before, c.after, c.unavailable_fields])).toEqual([
      ["CREATE", null, '{"id":1,"qty":2,"price":1.10,"total":2.20,"note":"n"}', null],
      [
        "UPDATE",
        '{"id":1,"qty":2,"price":1.10,"total":2.20,"note":"n"}',
        '{"id":1,"qty":3,"price":1.10,"total":3.30,"note":"n"}',
        null,
      ],
      ["DELETE", '{"id":1,"qty":3,"price":1.10,"total":3.30,"note":"n"}', null, null],
    ]);
  });

  it("are listed as unavailable where the source does not publish them (virtual ones)", async () => {
    // PostgreSQL 18 never publishes a virtual generated column (and refuses UPDATE and DELETE of
    // such a table under REPLICA IDENTITY FULL): its INSERTs are what reach the trail. A column
    // added to a tracked table, as here; saving the table with it is refused (databases test).
    await servers.sourceQuery("insert into boxes (id, w, h) values (1, 2, 3)");
    const [created] = await stored("boxes", 1);
    expect(created).toMatchObject({ operation: "CREATE", after: '{"id":1,"w":2,"h":3}', unavailable_fields: ["area"] });
  });

  it("are published from the next start on for a publication made without them, as made before", async () => {
    await stopWorker();
    // As an older Retrace made them: no publish_generated_columns.
    const legacy = await trackTables(servers, {
      tables: ["legacy_orders"],
      publication: "legacy_pub",
      slot: "legacy_slot",
      viaRoot: true,
    });
    await servers.sourceQuery("insert into legacy_orders values (1, 2, 1.10)");
    worker = startTestWorker(servers);
    await waitFor("the publication to publish generated columns", async () => {
      const [row] = await servers.sourceQuery<{ gencols: string }>(
        "select pubgencols::text as gencols from pg_publication where pubname = 'legacy_pub'",
      );
      return row?.gencols === "s";
    });
    await servers.sourceQuery("update legacy_orders set qty = 3 where id = 1");
    await servers.sourceQuery("delete from legacy_orders where id = 1");
    const changes = await stored("legacy_orders", 3, legacy);
    expect(changes.map((c) => [c.operation, c.before, c.after, c.unavailable_fields])).toEqual([
      // Written before the publication had the option: decoded as it was published then.
      ["CREATE", null, '{"id":1,"qty":2,"price":1.10}', ["total"]],
      ["UPDATE", '{"id":1,"qty":2,"price":1.10,"total":2.20}', '{"id":1,"qty":3,"price":1.10,"total":3.30}', null],
      ["DELETE", '{"id":1,"qty":3,"price":1.10,"total":3.30}', null, null],
    ]);
  });
});
