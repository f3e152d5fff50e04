import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsn } from "../lib/replication/lsn";
import { addSource, confirmedFlush, startServers, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

const SLOT = "retrace_ingest";

let servers: Servers;
let worker: Worker;
let sourceId: string;

async function changes(where = "true", params: unknown[] = []) {
  return servers.storeQuery<{
    operation: string;
    table: string;
    schema: string;
    primary_key: string | null;
    before: unknown;
    after: unknown;
    changed_fields: string[] | null;
    unavailable_fields: string[] | null;
    context: unknown;
    transaction_id: string;
    commit_lsn: string;
    seq: number;
    environment: string;
    database: string;
    committed_at: Date;
  }>(`select * from changes where source_id = $1 and ${where} order by commit_lsn, seq`, [sourceId, ...params]);
}

async function waitForChanges(count: number) {
  return waitFor(`${count} changes`, async () => {
    const [row] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1",
      [sourceId],
    );
    return (row?.n ?? 0) >= count && row;
  });
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id bigint primary key, name text, big int8, amount numeric, score float8, flag boolean,
                        tags text[], doc jsonb, at timestamptz);
    alter table items replica identity full;
    create table pairs (a int, b text, v text, primary key (a, b)) partition by list (b);
    create table pairs_x partition of pairs for values in ('x');
    alter table pairs replica identity full;
    alter table pairs_x replica identity full;
    create table logs (line text);
    alter table logs replica identity full;
    create table docs (id int primary key, body text, n int); -- REPLICA IDENTITY DEFAULT on purpose
    create table untracked (id int);
    create publication retrace_pub for table items, pairs, logs, docs with (publish_via_partition_root = true);
  `);
  await servers.sourceQuery("select pg_create_logical_replication_slot($1, 'pgoutput')", [SLOT]);
  // `prefer` against a server without SSL exercises the fall-back to a plain connection.
  sourceId = await addSource(servers, {
    slotName: SLOT,
    publicationName: "retrace_pub",
    environment: "staging",
    sslMode: "prefer",
  });
  worker = startTestWorker(servers);
});

afterAll(async () => {
  await worker?.stop();
  await servers?.stop();
});

describe("ingest", () => {
  it("captures insert, update, delete with exact values, keys, context and metadata", async () => {
    await servers.sourceQuery(`
      begin;
      select pg_logical_emit_message(true, '_bemi', '{"user":"alice","endpoint":"/items"}');
      insert into items values (1, E'Zoë "q" \\\\ back', 9223372036854775807,
        1234567890123456789012345678901234567890.123456789, 0.1, true,
        ARRAY['a b', NULL, 'c"d'], '{"n": 12345678901234567890}', '2024-02-29 23:59:59.123456+00');
      commit;
    `);
    await servers.sourceQuery("update items set name = 'renamed', amount = 'NaN' where id = 1");
    await servers.sourceQuery("delete from items where id = 1");
    await waitForChanges(3);

    const [created, updated, deleted] = await changes();
    expect(created).toMatchObject({
      operation: "CREATE",
      schema: "public",
      table: "items",
      primary_key: "1",
      before: null,
      context: { user: "alice", endpoint: "/items" },
      seq: 0,
      environment: "staging",
      database: "app",
    });
    // Exact digits, checked in SQL: a JS number would have rounded them.
    const [exact] = await servers.storeQuery<Record<string, string>>(
      `select after->>'big' as big, after->>'amount' as amount, after->'doc'->>'n' as doc_n, after->>'name' as name,
              after->>'at' as at, json_typeof(after->'flag') as flag_type,
              (after->'tags')::jsonb = '["a b", null, "c\\"d"]'::jsonb as tags_ok,
              json_typeof(after->'big') as big_type, after->>'score' as score
         from changes where source_id = $1 and operation = 'CREATE'`,
      [sourceId],
    );
    expect(exact).toEqual({
      big: "9223372036854775807",
      amount: "1234567890123456789012345678901234567890.123456789",
      doc_n: "12345678901234567890",
      name: 'Zoë "q" \\ back',
      at: "2024-02-29 23:59:59.123456+00",
      flag_type: "boolean",
      tags_ok: true,
      big_type: "number",
      score: "0.1",
    });

    // The image keeps the table's column order (json, not jsonb, which would sort keys by length).
    const [order] = await servers.storeQuery<{ keys: string[] }>(
      "select array(select json_object_keys(after)) as keys from changes where source_id = $1 and operation = 'CREATE'",
      [sourceId],
    );
    expect(order?.keys.slice(0, 6)).toEqual(["id", "name", "big", "amount", "score", "flag"]);

    expect(updated).toMatchObject({ operation: "UPDATE", primary_key: "1", context: null });
    expect(updated?.changed_fields?.sort()).toEqual(["amount", "name"]);
    expect(updated?.before).toMatchObject({ name: 'Zoë "q" \\ back' });
    expect(updated?.after).toMatchObject({ name: "renamed", amount: "NaN" });
    expect(deleted).toMatchObject({ operation: "DELETE", primary_key: "1", after: null });
    expect(deleted?.before).toMatchObject({ id: 1, name: "renamed" });
    // One source transaction each, in commit order.
    expect(new Set([created, updated, deleted].map((c) => c?.commit_lsn)).size).toBe(3);
  });

  it("records the source transaction id and the exact commit time", async () => {
    const { default: pg } = await import("pg");
    const conn = new pg.Client({ connectionString: servers.sourceUrl });
    await conn.connect();
    await conn.query("begin");
    const { rows } = await conn.query<{ xid: string }>("select pg_current_xact_id()::text as xid");
    await conn.query("insert into logs values ('xid check')");
    await conn.query("commit");
    const xid = rows[0]?.xid ?? "";
    const { rows: commitRows } = await conn.query<{ committed: string }>(
      "select to_char(pg_xact_commit_timestamp($1::xid) at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') as committed",
      [xid],
    );
    await conn.end();
    const row = await waitFor(
      "logs change",
      async () => (await changes("\"table\" = 'logs' and after->>'line' = 'xid check'"))[0],
    );
    expect(row.transaction_id).toBe(xid);
    expect(row.primary_key).toBeNull();
    const [stored] = await servers.storeQuery<{ committed: string }>(
      `select to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') as committed
         from changes where source_id = $1 and after->>'line' = 'xid check'`,
      [sourceId],
    );
    expect(stored?.committed).toBe(commitRows[0]?.committed);
  });

  it("reports partitions as their root with the catalog's composite key, and captures TRUNCATE", async () => {
    await servers.sourceQuery("insert into pairs values (7, 'x', 'v')");
    await servers.sourceQuery("truncate logs, items");
    const pair = await waitFor("pairs change", async () => (await changes("\"table\" = 'pairs'"))[0]);
    expect(pair).toMatchObject({ table: "pairs", primary_key: '["7","x"]', operation: "CREATE" });
    const truncates = await waitFor("truncates", async () => {
      const rows = await changes("operation = 'TRUNCATE'");
      return rows.length === 2 && rows;
    });
    expect(truncates.map((t) => [t.table, t.seq, t.before, t.after, t.primary_key])).toEqual([
      ["logs", 0, null, null, null],
      ["items", 1, null, null, null],
    ]);
  });

  it("leaves out an unchanged TOAST value it was not sent, without failing", async () => {
    await servers.sourceQuery(
      "insert into docs select 1, string_agg(md5(i::text), ''), 0 from generate_series(1, 4000) i",
    );
    await servers.sourceQuery("update docs set n = 1 where id = 1");
    await servers.sourceQuery("insert into logs values ('after toast')");
    const update = await waitFor(
      "docs update",
      async () => (await changes("\"table\" = 'docs' and operation = 'UPDATE'"))[0],
    );
    expect(update.after).toEqual({ id: 1, n: 1 });
    expect(update.unavailable_fields).toEqual(["body"]);
    expect(update.before).toBeNull();
    expect(update.changed_fields).toBeNull();
    const [elsewhere] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1 and unavailable_fields is not null",
      [sourceId],
    );
    expect(elsewhere?.n).toBe(1);
    const [created] = await servers.storeQuery<{ length: number }>(
      "select length(after->>'body') as length from changes " +
        "where source_id = $1 and \"table\" = 'docs' and operation = 'CREATE'",
      [sourceId],
    );
    expect(created?.length).toBe(4000 * 32);
    await waitFor("later change", async () => (await changes("after->>'line' = 'after toast'"))[0]);
  });

  it("confirms the slot only after storing, and advances it while idle", async () => {
    await waitFor("worker caught up", async () => {
      const [row] = await servers.sourceQuery<{ caught_up: boolean }>(
        "select confirmed_flush_lsn >= pg_current_wal_lsn() as caught_up " +
          "from pg_replication_slots where slot_name = $1",
        [SLOT],
      );
      return row?.caught_up;
    });
    const [{ checkpoint } = { checkpoint: "" }] = await servers.storeQuery<{ checkpoint: string }>(
      "select checkpoint_lsn::text as checkpoint from sources where id = $1",
      [sourceId],
    );
    const [maxStored] = await servers.storeQuery<{ lsn: string }>(
      "select max(commit_lsn)::text as lsn from changes where source_id = $1",
      [sourceId],
    );
    expect(checkpoint).toBe(maxStored?.lsn);

    // Idle: writes to an unpublished table produce no changes, but the slot must not hold WAL.
    const idleFrom = await confirmedFlush(servers, SLOT);
    for (let i = 0; i < 20; i++) await servers.sourceQuery("insert into untracked values ($1)", [i]);
    const [{ lsn: walEnd } = { lsn: "0/0" }] = await servers.sourceQuery<{ lsn: string }>(
      "select pg_current_wal_lsn()::text as lsn",
    );
    await waitFor("idle slot advance", async () => (await confirmedFlush(servers, SLOT)) >= parseLsn(walEnd));
    expect(await confirmedFlush(servers, SLOT)).toBeGreaterThan(idleFrom);

    // Store refusing writes: the source goes to error, the slot stays put, nothing is lost.
    await servers.storeQuery("alter table changes rename to changes_away");
    const stuckAt = await confirmedFlush(servers, SLOT);
    await servers.sourceQuery("insert into logs values ('while store fails')");
    const failed = await waitFor("error status", async () => {
      const [row] = await servers.storeQuery<{ status: string; last_error: string | null }>(
        "select status, last_error from sources where id = $1",
        [sourceId],
      );
      return row?.status === "error" && row;
    });
    expect(failed.last_error).toMatch(/changes/);
    expect(failed.last_error).not.toContain(servers.source.password);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await confirmedFlush(servers, SLOT)).toBe(stuckAt);
    await servers.storeQuery("alter table changes_away rename to changes");
    await waitFor("recovered change", async () => (await changes("after->>'line' = 'while store fails'"))[0]);
    await waitFor("streaming status", async () => {
      const [row] = await servers.storeQuery<{ status: string }>("select status from sources where id = $1", [
        sourceId,
      ]);
      return row?.status === "streaming";
    });
    const [dupes] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1 and after->>'line' = 'while store fails'",
      [sourceId],
    );
    expect(dupes?.n).toBe(1);
  });

  it("resumes exactly at the next transaction when its commit record follows the stored one", async () => {
    // pg-logical-replication reports `lsn + 1` as flushed. Confirming a commit's end that way
    // would make the server skip a transaction whose commit record starts right there.
    await servers.storeQuery(`
      create function refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.after->>'line' = 'poison' then raise exception 'poisoned row'; end if;
        return new;
      end $$;
      create trigger refuse_poison before insert on changes for each row execute function refuse_poison();
    `);
    const { default: pg } = await import("pg");
    const [first, second] = [
      new pg.Client({ connectionString: servers.sourceUrl }),
      new pg.Client({ connectionString: servers.sourceUrl }),
    ];
    await Promise.all([first.connect(), second.connect()]);
    // Both transactions write their rows first, then commit back to back: the second commit
    // record starts where the first one ends.
    await first.query("begin");
    await first.query("insert into logs values ('stored first')");
    await second.query("begin");
    await second.query("insert into logs values ('poison')");
    await first.query("commit");
    await second.query("commit");
    await Promise.all([first.end(), second.end()]);

    await waitFor("first stored", async () => (await changes("after->>'line' = 'stored first'"))[0]);
    await waitFor("poison refused", async () => {
      const [row] = await servers.storeQuery<{ last_error: string | null }>(
        "select last_error from sources where id = $1",
        [sourceId],
      );
      return row?.last_error?.includes("poisoned row");
    });
    const confirmedAfterFirst = await confirmedFlush(servers, SLOT);
    await servers.storeQuery("drop trigger refuse_poison on changes");
    const poison = await waitFor(
      "poison row after recovery",
      async () => (await changes("after->>'line' = 'poison'"))[0],
    );
    // The setup above is what makes this test bite: the second commit starts exactly at the
    // position confirmed for the first.
    expect(parseLsn(poison.commit_lsn)).toBe(confirmedAfterFirst);
  });

  it("streams each source from one lease, and lets go of a disabled source", async () => {
    const walsenders = async () => {
      const [row] = await servers.sourceQuery<{ n: number }>(
        "select count(*)::int as n from pg_stat_replication where application_name = 'retrace-worker'",
      );
      return row?.n ?? -1;
    };
    const leases = async () => {
      const [row] = await servers.storeQuery<{ n: number }>(
        "select count(*)::int as n from pg_locks where locktype = 'advisory' and granted",
      );
      return row?.n ?? -1;
    };
    const other = startTestWorker(servers, { pollIntervalMs: 100 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await walsenders()).toBe(1);
      expect(await leases()).toBe(1);
      const [row] = await servers.storeQuery<{ status: string }>("select status from sources where id = $1", [
        sourceId,
      ]);
      expect(row?.status).toBe("streaming");
    } finally {
      await other.stop();
    }

    await servers.storeQuery("update sources set enabled = false where id = $1", [sourceId]);
    await waitFor("stream stopped", async () => (await walsenders()) === 0 && (await leases()) === 0);
    await servers.sourceQuery("insert into logs values ('while disabled')");
    await servers.storeQuery("update sources set enabled = true where id = $1", [sourceId]);
    await waitFor("change made while disabled", async () => (await changes("after->>'line' = 'while disabled'"))[0]);
    expect(await walsenders()).toBe(1);
  });

  it("records why it cannot stream a source whose password was stored with another secret", async () => {
    const unreadable = await addSource(servers, {
      slotName: "retrace_unreadable",
      publicationName: "retrace_pub",
      secret: "the-secret-of-another-retrace-instance-0123",
    });
    try {
      const failed = await waitFor("error status", async () => {
        const [row] = await servers.storeQuery<{ status: string; last_error: string | null }>(
          "select status, last_error from sources where id = $1",
          [unreadable],
        );
        return row?.status === "error" && row;
      });
      // What the web app says about the same source (lib/sources/password.ts), not node's
      // "Unsupported state or unable to authenticate data".
      expect(failed.last_error).toBe(
        "The stored password of this database cannot be decrypted with this instance's RETRACE_SECRET " +
          "(was the secret changed?). Restore the previous secret, or remove the database and connect it again.",
      );
    } finally {
      await servers.storeQuery("delete from sources where id = $1", [unreadable]);
    }
  });
});
