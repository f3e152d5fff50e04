/**
 * What a change's labels need from the source catalog (key columns, generated columns) when the
 * catalog no longer has the table: changes decoded after their table was dropped (the worker was
 * stopped, paused or behind) keep their primary key, from what the store remembers of the table.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectThroughRetrace, saveTrackedTables, startServers, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

let servers: Servers;
let sourceId: string;
let worker: Worker | null = null;

type Stored = { table: string; operation: string; primary_key: string | null; before: unknown; after: unknown };

async function stored(table: string, count: number): Promise<Stored[]> {
  const query = () =>
    servers.storeQuery<Stored>(
      `select "table", operation::text as operation, primary_key, before, after
         from changes where source_id = $1 and "table" = $2 order by commit_lsn, seq`,
      [sourceId, table],
    );
  await waitFor(`${count} changes of ${table}`, async () => (await query()).length >= count).catch(
    async (error: unknown) => {
      const [row] = await servers.storeQuery<{ last_error: string | null }>(
        "select last_error from sources where id = $1",
        [sourceId],
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
    expect(changes[2]).toMatchObject({ before: { code: "b", v: 2 }, after: { code: "bb", v: 2 } });
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
