import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listChanges } from "../lib/changes/queries";
import { connectStore } from "../lib/db/client";
import { startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

const SLOT = "retrace_group";
const TRANSACTIONS = 300;

let servers: Servers;
let worker: Worker | undefined;
let sourceId: string;

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery("create table events (id int primary key, note text)");
  sourceId = await trackTables(servers, {
    tables: ["events"],
    publication: "retrace_group",
    slot: SLOT,
    viaRoot: true,
  });
  // An untouched copy of the slot, for the replay test below.
  await servers.sourceQuery("select pg_copy_logical_replication_slot($1, $2)", [SLOT, `${SLOT}_copy`]);
});

/** Heartbeats off: one between transactions commits what has gathered, splitting the groups counted here. */
const NO_HEARTBEATS = { heartbeatIntervalMs: 0 };

async function waitForChanges(source: string, count: number): Promise<void> {
  await waitFor(`${count} changes`, async () => {
    const [row] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1",
      [source],
    );
    return (row?.n ?? 0) >= count;
  });
}

afterAll(async () => {
  await worker?.stop();
  await servers?.stop();
});

describe("group commit", () => {
  it("stores a backlog of small transactions in far fewer store commits, each change once", async () => {
    // A backlog: many single-row source transactions waiting in the slot before the worker starts.
    for (let id = 1; id <= TRANSACTIONS; id++) {
      await servers.sourceQuery("insert into events values ($1, 'n')", [id]);
    }

    worker = startTestWorker(servers, NO_HEARTBEATS);
    await waitForChanges(sourceId, TRANSACTIONS);

    // Rows written by one store transaction share its xmin.
    const [stats] = await servers.storeQuery<{
      rows: number;
      ids: number;
      sourceTransactions: number;
      storeTransactions: number;
    }>(
      `select count(*)::int as rows, count(distinct primary_key)::int as ids,
              count(distinct commit_lsn)::int as "sourceTransactions",
              count(distinct xmin::text)::int as "storeTransactions"
         from changes where source_id = $1`,
      [sourceId],
    );
    expect(stats).toMatchObject({ rows: TRANSACTIONS, ids: TRANSACTIONS, sourceTransactions: TRANSACTIONS });
    expect(stats?.storeTransactions).toBeLessThan(TRANSACTIONS / 5);

    // The checkpoint is the last source commit, and the slot is confirmed past it.
    const [stored] = await servers.storeQuery<{ last: string; checkpoint: string }>(
      `select max(c.commit_lsn)::text as last, s.checkpoint_lsn::text as checkpoint
         from changes c join sources s on s.id = c.source_id where c.source_id = $1 group by s.checkpoint_lsn`,
      [sourceId],
    );
    expect(stored?.checkpoint).toBe(stored?.last);
    await waitFor("slot confirmed past the last stored commit", async () => {
      const [slot] = await servers.sourceQuery<{ past: boolean }>(
        "select confirmed_flush_lsn > $2::pg_lsn as past from pg_replication_slots where slot_name = $1",
        [SLOT, stored?.last],
      );
      return slot?.past;
    });
  });

  it(
    "converges when the server resends changes already stored: " +
      "COPY fails on the unique index, the next session skips them",
    async () => {
      // The checkpoint is lost and the slot is an older copy: the server resends every change
      // from the start, none of which the session knows to be stored.
      await worker?.stop();
      worker = undefined;
      await servers.sourceQuery("insert into events values ($1, 'after the backlog')", [TRANSACTIONS + 1]);
      await servers.storeQuery("update sources set slot_name = $2, checkpoint_lsn = null where id = $1", [
        sourceId,
        `${SLOT}_copy`,
      ]);

      const logs: string[] = [];
      worker = startTestWorker(servers, {
        ...NO_HEARTBEATS,
        logger: pino({ level: "warn" }, { write: (line: string) => void logs.push(line) }),
        backoff: { minMs: 50, maxMs: 200 },
      });
      const [stats] = await waitFor("the new change", async () => {
        const rows = await servers.storeQuery<{ rows: number; keys: number }>(
          "select count(*)::int as rows, count(distinct primary_key)::int as keys from changes where source_id = $1",
          [sourceId],
        );
        return (rows[0]?.keys ?? 0) > TRANSACTIONS ? rows : false;
      });
      expect(stats).toEqual({ rows: TRANSACTIONS + 1, keys: TRANSACTIONS + 1 });
      // The first session met a duplicate, the next one wrote with ON CONFLICT DO NOTHING.
      expect(logs.some((line) => line.includes("replication failed") && line.includes("duplicate key value"))).toBe(
        true,
      );
      expect(logs.some((line) => line.includes("ON CONFLICT DO NOTHING"))).toBe(true);
      const [source] = await servers.storeQuery<{ status: string; checkpoint: string | null }>(
        "select status, checkpoint_lsn::text as checkpoint from sources where id = $1",
        [sourceId],
      );
      expect(source?.status).toBe("streaming");
      expect(source?.checkpoint).not.toBeNull();
    },
  );

  it(
    "stores a source's rows in commit order even while groups overlap: " +
      "its ids follow (commit_lsn, seq), so no page skips any",
    async () => {
      // Small batches and a backlog of 50-row transactions: a full batch goes into the next store
      // transaction while the previous group commits, over and over. Its rows must not be inserted
      // while the previous group's are still going in, or ids interleave across the two.
      await worker?.stop();
      worker = undefined;
      await servers.sourceQuery("create table orders (id int primary key, note text)");
      const orderedSource = await trackTables(servers, {
        tables: ["orders"],
        publication: "retrace_order",
        slot: "retrace_order",
      });
      const transactions = 200;
      const rows = transactions * 50;
      for (let t = 0; t < transactions; t++) {
        await servers.sourceQuery(
          "insert into orders select g, repeat('n', 200) from generate_series($1::int, $1::int + 49) g",
          [t * 50],
        );
      }
      worker = startTestWorker(servers, { ...NO_HEARTBEATS, batch: { maxRows: 200, maxBytes: 4 * 1024 * 1024 } });
      await waitForChanges(orderedSource, rows);

      const [order] = await servers.storeQuery<{ outOfOrder: number; storeTransactions: number }>(
        `select count(*) filter (where id < previous)::int as "outOfOrder",
              count(distinct store_xid)::int as "storeTransactions"
         from (select id, xmin::text as store_xid, lag(id) over (order by commit_lsn, seq) as previous
                 from changes where source_id = $1) t`,
        [orderedSource],
      );
      expect(order?.outOfOrder).toBe(0);
      expect(order?.storeTransactions).toBeGreaterThan(1);

      // What it is for: the change list pages through the source without skipping or repeating.
      const store = connectStore(servers.storeUrl, { max: 1 });
      try {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await listChanges(store.db, { sourceId: orderedSource }, { limit: 97, cursor });
          seen.push(...page.changes.map((change) => change.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(seen).toHaveLength(rows);
        expect(new Set(seen).size).toBe(rows);
      } finally {
        await store.pool.end();
      }
    },
  );
});
