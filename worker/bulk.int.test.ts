import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLsn } from "../lib/replication/lsn";
import { confirmedFlush, startServers, trackTables, type Servers } from "../test/support/servers";
import { waitFor } from "../test/support/wait";
import { startTestWorker } from "../test/support/worker";
import type { Worker } from "./worker";

const SLOT = "retrace_bulk";

let servers: Servers;
let worker: Worker;
let sourceId: string;

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery("create table logs (line text)");
  sourceId = await trackTables(servers, { tables: ["logs"], publication: "bulk_pub", slot: SLOT });
  await servers.sourceQuery("insert into logs values ('before the bulk')");
  worker = startTestWorker(servers);
  await waitFor("first change", async () => {
    const [row] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1",
      [sourceId],
    );
    return row?.n === 1;
  });
});

afterAll(async () => {
  await worker?.stop();
  await servers?.stop();
});

describe("a large source transaction", () => {
  it("writes a 200k-row transaction in batches of one store transaction: all or nothing, exactly once", async () => {
    const ROWS = 200_000;
    const metric = async (name: "batches" | "changesWritten" | "transactions") =>
      (await worker.metrics[name].get()).values.find((v) => v.labels.source === sourceId)?.value ?? 0;
    const batchesBefore = await metric("batches");
    const [{ checkpoint: checkpointBefore } = { checkpoint: "" }] = await servers.storeQuery<{ checkpoint: string }>(
      "select checkpoint_lsn::text as checkpoint from sources where id = $1",
      [sourceId],
    );
    // The store refuses one row far into the transaction: dozens of batches are already written
    // into the open store transaction by then, and all of them must roll back.
    await servers.storeQuery(`
      create function refuse_mid_transaction() returns trigger language plpgsql as $$
      begin
        if new.seq = 150000 then raise exception 'refused mid-transaction'; end if;
        return new;
      end $$;
      create trigger refuse_mid_transaction before insert on changes
        for each row execute function refuse_mid_transaction();
    `);
    const confirmedBefore = await confirmedFlush(servers, SLOT);
    await servers.sourceQuery("insert into logs select 'bulk ' || g from generate_series(1, $1::int) g", [ROWS]);
    const bulkCount = async () => {
      const [row] = await servers.storeQuery<{ n: number }>(
        "select count(*)::int as n from changes where source_id = $1 and after->>'line' like 'bulk %'",
        [sourceId],
      );
      return row?.n ?? -1;
    };
    await waitFor(
      "mid-transaction refusal",
      async () => {
        const [row] = await servers.storeQuery<{ last_error: string | null }>(
          "select last_error from sources where id = $1",
          [sourceId],
        );
        return row?.last_error?.includes("refused mid-transaction");
      },
      { timeoutMs: 60_000 },
    );
    expect(await bulkCount()).toBe(0);
    const [{ checkpoint: checkpointWhileFailing } = { checkpoint: "" }] = await servers.storeQuery<{
      checkpoint: string;
    }>("select checkpoint_lsn::text as checkpoint from sources where id = $1", [sourceId]);
    expect(checkpointWhileFailing).toBe(checkpointBefore);
    // Keepalives may confirm positions inside the transaction's WAL, never its commit.
    const confirmedWhileFailing = await confirmedFlush(servers, SLOT);
    expect(await metric("batches")).toBeGreaterThanOrEqual(batchesBefore + 20);

    const writtenBefore = await metric("changesWritten");
    await servers.storeQuery("drop trigger refuse_mid_transaction on changes");
    await waitFor("bulk transaction stored", async () => (await bulkCount()) > 0, { timeoutMs: 60_000 });
    const [bulk] = await servers.storeQuery<{
      n: number;
      seqs: number;
      min_seq: number;
      max_seq: number;
      lsns: number;
      xids: number;
      lines: number;
      lsn: string;
    }>(
      `select count(*)::int as n, count(distinct seq)::int as seqs, min(seq) as min_seq, max(seq) as max_seq,
              count(distinct commit_lsn)::int as lsns, count(distinct transaction_id)::int as xids,
              count(distinct after->>'line')::int as lines, max(commit_lsn)::text as lsn
         from changes where source_id = $1 and after->>'line' like 'bulk %'`,
      [sourceId],
    );
    expect(bulk).toEqual({
      n: ROWS,
      seqs: ROWS,
      min_seq: 0,
      max_seq: ROWS - 1,
      lsns: 1,
      xids: 1,
      lines: ROWS,
      lsn: expect.any(String),
    });
    expect(confirmedWhileFailing).toBeLessThanOrEqual(parseLsn(bulk?.lsn ?? "0/0"));
    expect(await metric("changesWritten")).toBe(writtenBefore + ROWS);
    await waitFor(
      "slot confirmed past the bulk transaction",
      async () => (await confirmedFlush(servers, SLOT)) > confirmedBefore,
    );
  });
});
