/**
 * Partitioned tables: their changes are recorded as the root (images in the root's column order,
 * keys from the catalog), a TRUNCATE of one partition as a TRUNCATE of the root naming the
 * partition. Retrace publishes partitions as themselves (publish_via_partition_root = false):
 * published via the root, PostgreSQL sends nothing for a TRUNCATE of a partition.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getChange } from "../lib/changes/queries";
import { connectStore } from "../lib/db/client";
import { connectThroughRetrace, startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

let servers: Servers;
let sourceId: string;
let worker: Worker | null = null;

type Stored = {
  id: string;
  table: string;
  operation: string;
  primary_key: string | null;
  before: string | null;
  after: string | null;
  partition_schema: string | null;
  partition_table: string | null;
};

/** The changes of `table` after the first `skip`, once there are `skip + count`. */
async function stored(table: string, skip: number, count: number, source = sourceId): Promise<Stored[]> {
  const query = () =>
    servers.storeQuery<Stored>(
      `select id::text as id, "table", operation::text as operation, primary_key, before::text as before,
              after::text as after, partition_schema, partition_table
         from changes where source_id = $1 and "table" = $2 order by commit_lsn, seq`,
      [source, table],
    );
  const all = await waitFor(`${skip + count} changes of ${table}`, async () => {
    const rows = await query();
    return rows.length >= skip + count && rows;
  }).catch(async (error: unknown) => {
    const [row] = await servers.storeQuery<{ last_error: string | null }>(
      "select last_error from sources where id = $1",
      [source],
    );
    throw new Error(`${String(error)} (last error: ${row?.last_error ?? "none"})`);
  });
  expect(all).toHaveLength(skip + count);
  return all.slice(skip);
}

const brief = (changes: Stored[]) =>
  changes.map((c) => [c.operation, c.primary_key, c.before, c.after, c.partition_schema, c.partition_table]);

async function stopWorker(): Promise<void> {
  await worker?.stop();
  worker = null;
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create schema archive;
    create table meas (id int, at date, v int, primary key (id, at)) partition by range (at);
    create table meas_2024 partition of meas for values from ('2024-01-01') to ('2025-01-01');
    -- Attached with its columns in another order than the root's.
    create table meas_2025 (v int, at date not null, id int not null);
    alter table meas attach partition meas_2025 for values from ('2025-01-01') to ('2026-01-01');
    create table archive.meas_2023 partition of meas for values from ('2023-01-01') to ('2024-01-01');
    create table legacy (id int primary key, v int) partition by list (id);
    create table legacy_1 partition of legacy for values in (1);
    create table legacy_2 partition of legacy for values in (2);
  `);
  sourceId = await connectThroughRetrace(servers, { tables: ["public.meas"] });
  worker = startTestWorker(servers);
});

afterAll(async () => {
  await stopWorker();
  await servers?.stop();
});

describe("partitioned tables", () => {
  it("are published as their partitions", async () => {
    const [source] = await servers.storeQuery<{ publication: string }>(
      "select publication_name as publication from sources where id = $1",
      [sourceId],
    );
    const [publication] = await servers.sourceQuery<{ via_root: boolean }>(
      "select pubviaroot as via_root from pg_publication where pubname = $1",
      [source?.publication],
    );
    expect(publication?.via_root).toBe(false);
    const published = await servers.sourceQuery<{ name: string }>(
      "select schemaname || '.' || tablename as name from pg_publication_tables where pubname = $1 order by 1",
      [source?.publication],
    );
    expect(published.map((r) => r.name)).toEqual(["archive.meas_2023", "public.meas_2024", "public.meas_2025"]);
  });

  it("record row changes in any partition as the root, with its key, in the root's column order", async () => {
    await servers.sourceQuery("insert into meas values (1, '2024-05-01', 10), (2, '2025-05-01', 20)");
    await servers.sourceQuery("update meas set v = v + 1");
    await servers.sourceQuery("delete from meas where id = 1");
    expect(brief(await stored("meas", 0, 5))).toEqual([
      ["CREATE", '["1","2024-05-01"]', null, '{"id":1,"at":"2024-05-01","v":10}', null, null],
      ["CREATE", '["2","2025-05-01"]', null, '{"id":2,"at":"2025-05-01","v":20}', null, null],
      [
        "UPDATE",
        '["1","2024-05-01"]',
        '{"id":1,"at":"2024-05-01","v":10}',
        '{"id":1,"at":"2024-05-01","v":11}',
        null,
        null,
      ],
      [
        "UPDATE",
        '["2","2025-05-01"]',
        '{"id":2,"at":"2025-05-01","v":20}',
        '{"id":2,"at":"2025-05-01","v":21}',
        null,
        null,
      ],
      ["DELETE", '["1","2024-05-01"]', '{"id":1,"at":"2024-05-01","v":11}', null, null, null],
    ]);
  });

  it("record an UPDATE that moves a row to another partition as a DELETE and a CREATE of the root", async () => {
    await servers.sourceQuery("update meas set at = '2024-02-01' where id = 2");
    expect(brief(await stored("meas", 5, 2))).toEqual([
      ["DELETE", '["2","2025-05-01"]', '{"id":2,"at":"2025-05-01","v":21}', null, null, null],
      ["CREATE", '["2","2024-02-01"]', null, '{"id":2,"at":"2024-02-01","v":21}', null, null],
    ]);
  });

  it("record a TRUNCATE of one partition as one of the root naming it, and one of the root per partition", async () => {
    await servers.sourceQuery("truncate meas_2024");
    await servers.sourceQuery("truncate archive.meas_2023");
    await servers.sourceQuery("truncate meas");
    const truncates = await stored("meas", 7, 5);
    expect(brief(truncates.slice(0, 2))).toEqual([
      ["TRUNCATE", null, null, null, "public", "meas_2024"],
      ["TRUNCATE", null, null, null, "archive", "meas_2023"],
    ]);
    // The root has no rows of its own: PostgreSQL names each partition it emptied, in one message.
    const ofRoot = truncates.slice(2);
    expect(ofRoot.map((c) => c.operation)).toEqual(["TRUNCATE", "TRUNCATE", "TRUNCATE"]);
    expect(ofRoot.map((c) => `${c.partition_schema}.${c.partition_table}`).sort()).toEqual([
      "archive.meas_2023",
      "public.meas_2024",
      "public.meas_2025",
    ]);
    // The API names the partition too.
    const store = connectStore(servers.storeUrl, { max: 1 });
    try {
      const detail = await getChange(store.db, truncates[0]?.id ?? "0");
      expect(detail?.change).toMatchObject({
        operation: "TRUNCATE",
        schema: "public",
        table: "meas",
        partition: { schema: "public", table: "meas_2024" },
      });
    } finally {
      await store.pool.end();
    }
  });

  it("record changes of a partition attached after tracking began as the root", async () => {
    await servers.sourceQuery(
      "create table meas_2026 partition of meas for values from ('2026-01-01') to ('2027-01-01')",
    );
    await servers.sourceQuery("insert into meas values (6, '2026-03-01', 60)");
    await servers.sourceQuery("update meas set v = 61 where id = 6");
    await servers.sourceQuery("truncate meas_2026");
    expect(brief(await stored("meas", 12, 3))).toEqual([
      ["CREATE", '["6","2026-03-01"]', null, '{"id":6,"at":"2026-03-01","v":60}', null, null],
      // A partition created since has its own replica identity (DEFAULT, not the FULL that tracking
      // set on the others): an UPDATE that keeps the key carries no old row.
      ["UPDATE", '["6","2026-03-01"]', null, '{"id":6,"at":"2026-03-01","v":61}', null, null],
      ["TRUNCATE", null, null, null, "public", "meas_2026"],
    ]);
  });

  it("record changes of a partition dropped before they are decoded as the root, with its key", async () => {
    await stopWorker();
    await servers.sourceQuery("insert into meas values (3, '2023-03-01', 30)");
    await servers.sourceQuery("truncate archive.meas_2023");
    await servers.sourceQuery("drop table archive.meas_2023");
    worker = startTestWorker(servers);
    expect(brief(await stored("meas", 15, 2))).toEqual([
      ["CREATE", '["3","2023-03-01"]', null, '{"id":3,"at":"2023-03-01","v":30}', null, null],
      ["TRUNCATE", null, null, null, "archive", "meas_2023"],
    ]);
  });

  it("record changes made in a partition before it was detached as the root", async () => {
    await stopWorker();
    await servers.sourceQuery("insert into meas values (5, '2025-07-01', 50)");
    await servers.sourceQuery("alter table meas detach partition meas_2025");
    // No longer a partition: not published any more.
    await servers.sourceQuery("insert into meas_2025 (id, at, v) values (7, '2025-08-01', 70)");
    await servers.sourceQuery("insert into meas values (8, '2024-08-01', 80)");
    worker = startTestWorker(servers);
    expect(brief(await stored("meas", 17, 2))).toEqual([
      ["CREATE", '["5","2025-07-01"]', null, '{"id":5,"at":"2025-07-01","v":50}', null, null],
      ["CREATE", '["8","2024-08-01"]', null, '{"id":8,"at":"2024-08-01","v":80}', null, null],
    ]);
    const [detached] = await servers.storeQuery<{ n: number }>(
      `select count(*)::int as n from changes where source_id = $1 and "table" = 'meas_2025'`,
      [sourceId],
    );
    expect(detached?.n).toBe(0);
  });

  it("switch a publication made via the root at the next start, recording both shapes as the root", async () => {
    await stopWorker();
    // As an older Retrace made them: publish_via_partition_root = true.
    await servers.sourceQuery("alter table legacy_1 replica identity full; alter table legacy_2 replica identity full");
    const legacy = await trackTables(servers, {
      tables: ["legacy"],
      publication: "legacy_pub",
      slot: "legacy_slot",
      viaRoot: true,
    });
    await servers.sourceQuery("insert into legacy values (1, 10), (2, 20)");
    worker = startTestWorker(servers);
    await waitFor("the publication to publish partitions", async () => {
      const [row] = await servers.sourceQuery<{ via_root: boolean }>(
        "select pubviaroot as via_root from pg_publication where pubname = 'legacy_pub'",
      );
      return row?.via_root === false;
    });
    await servers.sourceQuery("update legacy set v = 11 where id = 1");
    await servers.sourceQuery("truncate legacy_2");
    expect(brief(await stored("legacy", 0, 4, legacy))).toEqual([
      // Written while published via the root: decoded that way, recorded the same.
      ["CREATE", "1", null, '{"id":1,"v":10}', null, null],
      ["CREATE", "2", null, '{"id":2,"v":20}', null, null],
      ["UPDATE", "1", '{"id":1,"v":10}', '{"id":1,"v":11}', null, null],
      ["TRUNCATE", null, null, null, "public", "legacy_2"],
    ]);
  });
});
