/**
 * Tracked tables and columns against real servers and the real worker:
 * - "track new tables automatically": a table created after connecting is captured from its first
 *   row with whole before images (the event trigger, lib/sources/new-tables.ts), and joins the
 *   tracked set; a role that may not create the trigger gets the SQL instead;
 * - column rules: excluded columns never reach the store, masked ones arrive as a keyed hash,
 *   updates of excluded columns alone are skipped when asked;
 * - untracking restores the replica identity Retrace changed; a tracked table dropped at the
 *   source is shown as dropped and saving the list back is no error; an identity changed since
 *   tracking is seen and fixed in one call.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { columnMaskKey, valueMasker } from "../lib/crypto/mask";
import { connectStore, type Store } from "../lib/db/client";
import { installNewTablesTrigger, newTablesState, removeNewTablesTrigger } from "../lib/sources/new-tables";
import { replicationNamesFor } from "../lib/sources/provision";
import { connectDatabase } from "../lib/sources/connect-database";
import { updateColumnRules } from "../lib/sources/service";
import {
  fixReplicaIdentity,
  setTrackNewTables,
  sourceTables,
  updateTrackedTables,
} from "../lib/sources/tracked-tables";
import { SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "../worker/worker";

let servers: Servers;
let store: Store;
let worker: Worker | null = null;

const mask = valueMasker(columnMaskKey(SECRET));

async function connect(database: string, tables: string[], trackNewTables = false): Promise<string> {
  const created = await connectDatabase(store.db, SECRET, {
    host: "localhost",
    port: servers.source.port,
    database,
    username: "postgres",
    password: servers.source.password,
    sslMode: "disable",
    environment: "test",
    tables,
    trackNewTables,
  });
  return created.id;
}

const query = <T extends pg.QueryResultRow>(database: string, sql: string, params?: unknown[]) =>
  servers.source.query<T>(sql, params, database).then((r) => r.rows);

async function identity(database: string, table: string): Promise<string> {
  const [row] = await query<{ ident: string }>(
    database,
    "select relreplident::text as ident from pg_class where oid = $1::regclass",
    [table],
  );
  return row?.ident ?? "?";
}

type Stored = { operation: string; primary_key: string | null; before: string | null; after: string | null };

async function storedChanges(sourceId: string, table: string, count: number): Promise<Stored[]> {
  const read = () =>
    servers.storeQuery<Stored>(
      `select operation::text as operation, primary_key, before::text as before, after::text as after
         from changes where source_id = $1 and "table" = $2 order by commit_lsn, seq`,
      [sourceId, table],
    );
  await waitFor(`${count} changes of ${table}`, async () => (await read()).length >= count).catch(
    async (error: unknown) => {
      const [source] = await servers.storeQuery<{ last_error: string | null }>(
        "select last_error from sources where id = $1",
        [sourceId],
      );
      const stored = await servers.storeQuery<{ t: string; o: string; after: string | null }>(
        `select "table" as t, operation::text as o, after::text as after from changes where source_id = $1
          order by commit_lsn, seq`,
        [sourceId],
      );
      throw new Error(
        `${String(error)} (last error: ${source?.last_error ?? "none"}; stored: ${JSON.stringify(stored)})`,
      );
    },
  );
  return read();
}

beforeAll(async () => {
  servers = await startServers();
  store = connectStore(servers.storeUrl, { max: 2 });
  for (const database of ["newtables", "columns", "identities", "restricted"]) {
    await servers.source.createDatabase(database);
  }
  worker = startTestWorker(servers);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await store?.pool.end();
  await servers?.stop();
});

describe("track new tables automatically", () => {
  it("captures a table created after connecting from its first row, with before images, and tracks it", async () => {
    await query("newtables", "create table existing (id int primary key)");
    const id = await connect("newtables", ["public.existing"], true);
    const state = await sourceTables(store.db, SECRET, id);
    expect(state.newTables).toEqual({ enabled: true, active: true, sql: null, dropSql: null });

    // No primary key: without REPLICA IDENTITY FULL its UPDATEs would be refused by the source.
    await query(
      "newtables",
      `create table later (note text, qty int);
       insert into later values ('first', 1);
       update later set qty = 2 where note = 'first';
       delete from later;`,
    );
    // Created and written in one transaction: captured too.
    await query(
      "newtables",
      "begin; create table same_tx (id int primary key, v text); insert into same_tx values (1, 'a'); commit;",
    );

    const later = await storedChanges(id, "later", 3);
    expect(later.map((c) => c.operation)).toEqual(["CREATE", "UPDATE", "DELETE"]);
    expect(JSON.parse(later[1]?.before ?? "null")).toEqual({ note: "first", qty: 1 });
    expect(JSON.parse(later[1]?.after ?? "null")).toEqual({ note: "first", qty: 2 });
    expect(JSON.parse(later[2]?.before ?? "null")).toEqual({ note: "first", qty: 2 });
    expect(await identity("newtables", "later")).toBe("f");
    const sameTx = await storedChanges(id, "same_tx", 1);
    expect(JSON.parse(sameTx[0]?.after ?? "null")).toEqual({ id: 1, v: "a" });
    // Its primary key is read from the catalog when its relation message arrives.
    expect(sameTx[0]?.primary_key).toBe("1");
    // The worker lists the new tables as tracked as their first changes arrive (no page needs to be opened).
    const trackedInStore = await servers.storeQuery<{ table: string }>(
      `select "table" from tracked_tables where source_id = $1 order by 1`,
      [id],
    );
    expect(trackedInStore.map((t) => t.table)).toEqual(["existing", "later", "same_tx"]);

    // A partitioned table created later is tracked, and its partitions get whole before images.
    await query(
      "newtables",
      `create table events (id int, at date, primary key (id, at)) partition by range (at);
       create table events_2024 partition of events for values from ('2024-01-01') to ('2025-01-01');
       insert into events values (1, '2024-05-01');
       update events set id = 2 where id = 1;`,
    );
    expect(await identity("newtables", "events_2024")).toBe("f");
    const events = await storedChanges(id, "events", 2);
    expect(JSON.parse(events[1]?.before ?? "null")).toEqual({ id: 1, at: "2024-05-01" });

    // CREATE TABLE AS writes its rows before the trigger runs: those are not captured, later ones are.
    await query("newtables", "create table copied as select 1 as id; insert into copied values (2);");
    const copied = await storedChanges(id, "copied", 1);
    expect(copied.map((c) => JSON.parse(c.after ?? "null"))).toEqual([{ id: 2 }]);

    const listed = await sourceTables(store.db, SECRET, id);
    expect(listed.tables.filter((t) => t.tracked).map((t) => t.name)).toEqual([
      "copied",
      "events",
      "existing",
      "later",
      "same_tx",
    ]);

    // Untracking the new table restores the identity it had before the trigger (DEFAULT).
    await updateTrackedTables(store.db, SECRET, id, {
      tables: ["public.existing", "public.same_tx", "public.events", "public.copied"],
    });
    expect(await identity("newtables", "later")).toBe("d");

    // Off: the trigger is gone, a table created now is not tracked.
    expect(await setTrackNewTables(store.db, SECRET, id, false)).toEqual({
      enabled: false,
      active: false,
      sql: null,
      dropSql: null,
    });
    await query("newtables", "create table after_off (id int primary key)");
    expect(await identity("newtables", "after_off")).toBe("d");
    const off = await sourceTables(store.db, SECRET, id);
    expect(off.tables.find((t) => t.name === "after_off")?.tracked).toBe(false);
  });

  it("gives a role that may not create the event trigger the SQL a superuser runs", async () => {
    await query("restricted", "create role plain login password 'plain' replication");
    const names = replicationNamesFor("00000000-0000-0000-0000-00000000abcd");
    const client = new pg.Client({
      connectionString: `postgres://plain:plain@localhost:${servers.source.port}/restricted`,
    });
    await client.connect();
    try {
      expect(await installNewTablesTrigger(client, names)).toBe(false);
      const state = await newTablesState(client, names, true);
      expect(state.active).toBe(false);
      expect(state.sql).toContain("CREATE EVENT TRIGGER");
      // The SQL it gives works when a superuser runs it.
      await query("restricted", state.sql ?? "");
      expect((await newTablesState(client, names, true)).active).toBe(true);
      // Turned off, a trigger this role may not drop is reported with what drops it, and that works.
      expect(await removeNewTablesTrigger(client, names)).toBe(false);
      const off = await newTablesState(client, names, false);
      expect(off).toMatchObject({ enabled: false, active: true, sql: null });
      await query("restricted", off.dropSql ?? "");
      expect((await newTablesState(client, names, false)).active).toBe(false);
    } finally {
      await client.end();
    }
  });
});

describe("column rules", () => {
  it("keep excluded columns out of the store, mask others, and skip updates of excluded columns alone", async () => {
    await query(
      "columns",
      `create table users (id int primary key, email text, password text, updated_at timestamptz default now());
       create table posts (id int primary key, title text, updated_at timestamptz default now());`,
    );
    const id = await connect("columns", ["public.users", "public.posts"]);
    // Streaming before the rules change, so the only session started after it is one with the rules.
    await waitFor("the first session", async () => {
      const [row] = await servers.storeQuery<{ status: string }>(
        "select status::text as status from sources where id = $1",
        [id],
      );
      return row?.status === "streaming";
    });
    await updateColumnRules(store.db, id, {
      rules: [
        { pattern: "*.updated_at", action: "exclude" },
        { pattern: "public.users.password", action: "mask" },
      ],
      skipExcludedOnlyUpdates: true,
    });
    // The worker picks the rules up with a new session (from the checkpoint) within its poll
    // interval: wait for a walsender started after they were saved.
    const [{ now } = { now: "" }] = await query<{ now: string }>("columns", "select now()::text as now");
    const slot = replicationNamesFor(id).slotName;
    await waitFor("a session with the rules", async () => {
      const [row] = await query<{ fresh: boolean }>(
        "columns",
        `select a.backend_start > $2::timestamptz as fresh
           from pg_replication_slots s join pg_stat_activity a on a.pid = s.active_pid
          where s.slot_name = $1`,
        [slot, now],
      );
      return row?.fresh === true;
    });
    await query(
      "columns",
      `insert into users (id, email, password) values (1, 'a@example.com', 'hunter2'), (2, 'b@example.com', 'hunter2');
       update users set updated_at = now() + interval '1 day' where id = 1;
       update users set email = 'c@example.com' where id = 2;
       insert into posts (id, title) values (1, 'hello');`,
    );
    const users = await storedChanges(id, "users", 3);
    expect(users.map((c) => c.operation)).toEqual(["CREATE", "CREATE", "UPDATE"]);
    for (const change of users) {
      expect(`${change.before ?? ""}${change.after ?? ""}`).not.toContain("updated_at");
      expect(`${change.before ?? ""}${change.after ?? ""}`).not.toContain("hunter2");
    }
    expect(JSON.parse(users[0]?.after ?? "null")).toEqual({ id: 1, email: "a@example.com", password: mask("hunter2") });
    // Equal values, equal hashes.
    expect(JSON.parse(users[1]?.after ?? "null").password).toBe(mask("hunter2"));
    expect(JSON.parse(users[2]?.after ?? "null")).toEqual({ id: 2, email: "c@example.com", password: mask("hunter2") });
    const posts = await storedChanges(id, "posts", 1);
    expect(JSON.parse(posts[0]?.after ?? "null")).toEqual({ id: 1, title: "hello" });
  });
});

describe("tracked tables and their replica identities", () => {
  it("restore what Retrace changed, show dropped tables, and see and fix an identity changed since", async () => {
    await query(
      "identities",
      `create table plain (id int primary key, v text);
       create table indexed (id int not null, v text);
       create unique index indexed_id on indexed (id);
       alter table indexed replica identity using index indexed_id;
       create table nothing (id int primary key);
       alter table nothing replica identity nothing;
       create table already_full (id int primary key);
       alter table already_full replica identity full;
       create table doomed (id int primary key);`,
    );
    const all = ["public.plain", "public.indexed", "public.nothing", "public.already_full", "public.doomed"];
    const id = await connect("identities", all);
    for (const table of ["plain", "indexed", "nothing", "already_full"])
      expect(await identity("identities", table)).toBe("f");

    await query("identities", "drop table doomed");
    const afterDrop = await sourceTables(store.db, SECRET, id);
    expect(afterDrop.dropped.map((t) => t.table)).toEqual(["doomed"]);
    expect(afterDrop.tables.map((t) => t.name)).not.toContain("doomed");
    // Saving the list back as it was (the dropped table in it) is no error, and the table is gone.
    const saved = await updateTrackedTables(store.db, SECRET, id, { tables: all });
    expect(saved.map((t) => t.table)).toEqual(["already_full", "indexed", "nothing", "plain"]);
    // A table that never existed still is one.
    await expect(updateTrackedTables(store.db, SECRET, id, { tables: ["public.never"] })).rejects.toThrow(/Not found/);

    // Someone changes an identity after tracking: seen, and fixed in one call.
    await query("identities", "alter table plain replica identity default");
    const drifted = await sourceTables(store.db, SECRET, id);
    expect(drifted.tables.find((t) => t.name === "plain")).toMatchObject({ tracked: true, replicaIdentity: "default" });
    expect(await fixReplicaIdentity(store.db, SECRET, id, { table: "public.plain" })).toMatchObject({
      replicaIdentity: "full",
    });

    // Untracked: each gets back what it had before Retrace (FULL stays FULL: it was so before).
    await updateTrackedTables(store.db, SECRET, id, { tables: [] });
    expect(await identity("identities", "plain")).toBe("d");
    expect(await identity("identities", "indexed")).toBe("i");
    expect(await identity("identities", "nothing")).toBe("n");
    expect(await identity("identities", "already_full")).toBe("f");
    const [index] = await query<{ name: string }>(
      "identities",
      "select c.relname::text as name from pg_index x join pg_class c on c.oid = x.indexrelid where x.indisreplident",
    );
    expect(index?.name).toBe("indexed_id");
  });
});
