import { drizzle } from "drizzle-orm/node-postgres";
import { integer, pgTable, text } from "drizzle-orm/pg-core";
import { eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContextTooLargeError, MAX_CONTEXT_BYTES, instrument, instrumentDrizzle, withContext } from "../sdk/src/index";
import { startServers, trackTables, type Servers } from "./support/servers";
import { endPool, waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "../worker/worker";

// The SDK against a real source and the real worker: what the trail says each change's context is.
let servers: Servers;
let worker: Worker;
let sourceId: string;
let pool: pg.Pool;

const orders = pgTable("orders", { id: integer("id").primaryKey(), status: text("status") });

type Stored = { table: string; key: string; op: string; context: Record<string, unknown> | null };

/** The stored changes of `table` (keys `from`..`to`), in commit order, once `count` are there. */
async function trail(table: string, from: number, to: number, count: number): Promise<Stored[]> {
  return waitFor(`${count} changes of ${table} ${from}..${to}`, async () => {
    const rows = await servers.storeQuery<Stored>(
      `select "table", primary_key as key, operation::text as op, context from changes
        where source_id = $1 and "table" = $2 and primary_key::int between $3 and $4 order by commit_lsn, seq`,
      [sourceId, table, from, to],
    );
    return rows.length >= count && rows;
  });
}

/** A marker change committed after the work under test: once it is stored, everything before it is. */
async function drained(): Promise<void> {
  const [row] = await servers.sourceQuery<{ id: number }>("insert into marks default values returning id");
  await trail("marks", row?.id ?? 0, row?.id ?? 0, 1);
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table orders (id int primary key, status text);
    create table marks (id serial primary key);
    create function place_order(order_id int) returns int language sql as
      $$ insert into orders values (order_id, 'by function') returning id $$;
  `);
  sourceId = await trackTables(servers, { tables: ["orders", "marks"], publication: "sdk_pub", slot: "sdk_slot" });
  worker = startTestWorker(servers);
  pool = instrument(new pg.Pool({ connectionString: servers.sourceUrl, max: 4 }));
});

afterAll(async () => {
  if (pool) await endPool(pool);
  await worker?.stop();
  await servers?.stop();
});

describe("@retrace/sdk with node-postgres", () => {
  it("stitches each statement's context to its own changes, and none to a statement outside", async () => {
    const request = { userId: 7, endpoint: "POST /orders" };
    // Outside a transaction: the statement and its message commit together.
    await withContext(request, () => pool.query("insert into orders values (1, 'new'), (2, 'new')"));
    const client = await pool.connect();
    try {
      await client.query("begin");
      await withContext({ userId: 8 }, () => client.query("update orders set status = 'paid' where id = 1"));
      await client.query("update orders set status = 'seen' where id = 2"); // no context: none stored
      await withContext({ userId: 9, endpoint: "DELETE /orders/2" }, () =>
        client.query({ text: "delete from orders where id = $1", values: [2] }),
      );
      await client.query("commit");
    } finally {
      client.release();
    }
    // A read inside withContext writes no message and needs no transaction.
    await withContext(request, () => pool.query("select count(*) from orders"));
    await pool.query("update orders set status = 'plain' where id = 1");
    expect(await trail("orders", 1, 2, 6)).toEqual([
      { table: "orders", key: "1", op: "CREATE", context: request },
      { table: "orders", key: "2", op: "CREATE", context: request },
      { table: "orders", key: "1", op: "UPDATE", context: { userId: 8 } },
      { table: "orders", key: "2", op: "UPDATE", context: null },
      { table: "orders", key: "2", op: "DELETE", context: { userId: 9, endpoint: "DELETE /orders/2" } },
      { table: "orders", key: "1", op: "UPDATE", context: null },
    ]);
  });

  it("merges nested contexts and restores the outer one", async () => {
    await withContext({ userId: 1, endpoint: "POST /batch" }, async () => {
      await pool.query("insert into orders values (10, 'a')");
      await withContext({ job: "mailer", endpoint: "job:mail" }, async () => {
        await pool.query("insert into orders values (11, 'b')");
      });
      await pool.query("insert into orders values (12, 'c')");
    });
    expect((await trail("orders", 10, 12, 3)).map((change) => change.context)).toEqual([
      { userId: 1, endpoint: "POST /batch" },
      { userId: 1, endpoint: "job:mail", job: "mailer" },
      { userId: 1, endpoint: "POST /batch" },
    ]);
  });

  it("keeps concurrent requests' contexts apart", async () => {
    const ids = Array.from({ length: 24 }, (_, i) => 100 + i);
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
    await Promise.all(
      ids.map((id) =>
        withContext({ requestId: `req-${id}` }, async () => {
          await pause();
          if (id % 2 === 0) {
            await pool.query("insert into orders values ($1, 'new')", [id]);
            await pause();
            await pool.query("update orders set status = 'done' where id = $1", [id]);
            return;
          }
          // Half of them in a transaction of their own, holding a pooled client across awaits.
          const client = await pool.connect();
          try {
            await client.query("begin");
            await client.query("insert into orders values ($1, 'new')", [id]);
            await pause();
            await client.query("update orders set status = 'done' where id = $1", [id]);
            await client.query("commit");
          } finally {
            client.release();
          }
        }),
      ),
    );
    const stored = await trail("orders", 100, 123, 48);
    for (const change of stored) expect(change.context).toEqual({ requestId: `req-${change.key}` });
  });

  it("leaves nothing from rolled-back work, and no context on what follows it", async () => {
    const client = await pool.connect();
    try {
      await client.query("begin");
      await withContext({ userId: 66 }, () => client.query("insert into orders values (200, 'gone')"));
      await client.query("rollback");
      await client.query("begin");
      await withContext({ userId: 1 }, () => client.query("insert into orders values (201, 'kept')"));
      await client.query("savepoint s");
      await withContext({ userId: 67 }, () => client.query("insert into orders values (202, 'gone')"));
      await client.query("rollback to savepoint s");
      await client.query("insert into orders values (203, 'no context')");
      await client.query("commit");
    } finally {
      client.release();
    }
    // A failing write outside a transaction rolls its message back with it.
    await expect(
      withContext({ userId: 68 }, () => pool.query("insert into orders values (201, 'duplicate')")),
    ).rejects.toThrow(/duplicate key/);
    await pool.query("insert into orders values (204, 'after the failure')");
    await drained();
    expect(await trail("orders", 200, 204, 3)).toEqual([
      { table: "orders", key: "201", op: "CREATE", context: { userId: 1 } },
      { table: "orders", key: "203", op: "CREATE", context: null },
      { table: "orders", key: "204", op: "CREATE", context: null },
    ]);
  });

  it("refuses a context over the size limit before running anything", async () => {
    let ran = false;
    const big = { note: "x".repeat(MAX_CONTEXT_BYTES) };
    expect(() =>
      withContext(big, () => {
        ran = true;
      }),
    ).toThrow(ContextTooLargeError);
    expect(() => withContext(big, () => undefined)).toThrow(/over the 65536-byte limit/);
    expect(ran).toBe(false);
    // Just under the limit goes through whole.
    const fits = { note: "y".repeat(MAX_CONTEXT_BYTES - 20) };
    await withContext(fits, () => pool.query("insert into orders values (300, 'big context')"));
    const [change] = await trail("orders", 300, 300, 1);
    expect(change?.context).toEqual(fits);
  });

  it("carries context into a SELECT that writes only with statements: all", async () => {
    const everything = instrument(new pg.Pool({ connectionString: servers.sourceUrl, max: 1 }), { statements: "all" });
    try {
      await withContext({ via: "default" }, () => pool.query("select place_order(450)"));
      await withContext({ via: "all" }, () => everything.query("select place_order(451)"));
    } finally {
      await everything.end();
    }
    expect((await trail("orders", 450, 451, 2)).map((change) => [change.key, change.context])).toEqual([
      ["450", null],
      ["451", { via: "all" }],
    ]);
  });

  it("keeps the order of queries issued without waiting on a Client", async () => {
    const client = instrument(new pg.Client({ connectionString: servers.sourceUrl }));
    await client.connect();
    try {
      // Issued back to back: the write with context must still run inside the BEGIN before it
      // and before the statements after it.
      const issued = [
        client.query("begin"),
        withContext({ pipelined: true }, () => client.query("insert into orders values (600, 'p')")),
        client.query("insert into orders values (601, 'q')"),
        client.query("commit"),
      ];
      await Promise.all(issued);
      expect(client.getTransactionStatus()).toBe("I");
    } finally {
      await client.end();
    }
    const stored = await trail("orders", 600, 601, 2);
    expect(stored.map((change) => [change.key, change.context])).toEqual([
      ["600", { pipelined: true }],
      ["601", null],
    ]);
    const [one] = await servers.storeQuery<{ n: number }>(
      `select count(distinct transaction_id)::int as n from changes
        where source_id = $1 and "table" = 'orders' and primary_key in ('600', '601')`,
      [sourceId],
    );
    expect(one?.n).toBe(1);
  });

  it("supports callback-style queries (pool.query with a callback)", async () => {
    await withContext({ style: "callback" }, () => {
      return new Promise<void>((resolve, reject) => {
        pool.query("insert into orders values (400, 'cb')", (error: Error | undefined) =>
          error ? reject(error) : resolve(),
        );
      });
    });
    expect((await trail("orders", 400, 400, 1))[0]?.context).toEqual({ style: "callback" });
  });
});

describe("@retrace/sdk with Drizzle (node-postgres driver)", () => {
  it("carries the context through db.insert, db.update and db.transaction", async () => {
    const dbPool = new pg.Pool({ connectionString: servers.sourceUrl, max: 2 });
    const db = instrumentDrizzle(drizzle(dbPool));
    try {
      await withContext({ userId: 5, endpoint: "POST /drizzle" }, async () => {
        await db.insert(orders).values([
          { id: 500, status: "new" },
          { id: 501, status: "new" },
        ]);
        await db.transaction(async (tx) => {
          await tx.update(orders).set({ status: "paid" }).where(eq(orders.id, 500));
          await withContext({ step: "cleanup" }, () => tx.delete(orders).where(eq(orders.id, 501)));
        });
      });
      await db.update(orders).set({ status: "plain" }).where(eq(orders.id, 500));
    } finally {
      await dbPool.end();
    }
    expect(await trail("orders", 500, 501, 5)).toEqual([
      { table: "orders", key: "500", op: "CREATE", context: { userId: 5, endpoint: "POST /drizzle" } },
      { table: "orders", key: "501", op: "CREATE", context: { userId: 5, endpoint: "POST /drizzle" } },
      { table: "orders", key: "500", op: "UPDATE", context: { userId: 5, endpoint: "POST /drizzle" } },
      { table: "orders", key: "501", op: "DELETE", context: { userId: 5, endpoint: "POST /drizzle", step: "cleanup" } },
      { table: "orders", key: "500", op: "UPDATE", context: null },
    ]);
  });
});
