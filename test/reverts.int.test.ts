import pg from "pg";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionSecret } from "@/lib/auth/secret";
import { createApiToken } from "@/lib/auth/tokens";
import type { RevertResult } from "@/lib/changes/revert/service";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { connectStore, type Store } from "@/lib/db/client";
import type { Worker } from "@/worker/worker";
import {
  HOSTILE,
  HOSTILE_SCHEMA,
  HOSTILE_TABLE,
  random,
  randomStatement,
  SETUP_SQL,
  STATE_SQL,
  type Keys,
  type Statement,
} from "./support/revert-workload";
import { connectThroughRetrace, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

/**
 * Reverts against real servers: a seeded random workload on a table of every awkward type and on a table with a
 * hostile name and a composite key, captured by the real worker; the revert SQL Retrace plans is applied to the
 * source and the tables must read exactly as they did before. Conflicts (changed again, gone, back again, changed
 * outside the trail, TRUNCATE) are found and refuse execution; an executed revert is labelled in the trail.
 */

const SEED = Number(process.env.REVERT_SEED ?? 20261206);
type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let servers: Servers;
let store: Store;
let worker: Worker | undefined;
let token: string;
let route: Route;
let expected = 0;
const rng = random(SEED);
const keys: Keys = { items: new Set(), hostile: new Set() };

async function state(): Promise<string[]> {
  return (await servers.sourceQuery<{ row: string }>(STATE_SQL)).map((r) => r.row);
}

/** One source transaction, optionally with a context; returns its xid. Counts the changes it makes. */
async function transaction(statements: Statement[], context?: string): Promise<string> {
  const client = await servers.sourcePool.connect();
  try {
    await client.query("begin");
    if (context) await client.query("select pg_logical_emit_message(true, '_retrace', $1)", [context]);
    for (const statement of statements) {
      const result = await client.query(statement.text, statement.values);
      expected += result.command === "TRUNCATE" ? 1 : (result.rowCount ?? 0);
    }
    const [row] = (await client.query<{ xid: string }>("select txid_current()::text as xid")).rows;
    await client.query("commit");
    return row?.xid ?? "";
  } finally {
    client.release();
  }
}

function randomTransaction(size: number): Statement[] {
  return Array.from({ length: size }, () => randomStatement(rng, keys));
}

async function stored(): Promise<void> {
  await waitFor(
    `${expected} changes stored`,
    async () => {
      const [row] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes");
      return row?.n === expected;
    },
    { timeoutMs: 30_000 },
  );
}

async function changeOf(xid: string): Promise<string> {
  const [row] = await servers.storeQuery<{ id: string }>(
    "select min(id)::text as id from changes where transaction_id = $1::bigint",
    [xid],
  );
  if (!row?.id) throw new Error(`no change of transaction ${xid}`);
  return row.id;
}

async function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) {
  const response = await route(
    new Request("http://localhost/api/reverts", { method: "POST", headers, body: JSON.stringify(body) }),
    { params: Promise.resolve({}) },
  );
  return { status: response.status, body: (await response.json()) as RevertResult & { error?: { code: string } } };
}

async function plan(body: Record<string, unknown>): Promise<RevertResult> {
  const { status, body: result } = await post({ ...body, execute: false });
  expect(status, JSON.stringify(result)).toBe(200);
  return result;
}

/** Applies a planned script the way a person would: as is, in psql's one-string form. */
async function applyByHand(result: RevertResult): Promise<void> {
  const client: pg.PoolClient = await servers.sourcePool.connect();
  try {
    await client.query(result.sql);
  } finally {
    client.release();
  }
  expected += result.statements.filter((s) => !s.sql.startsWith("--")).length;
  await refreshKeys();
}

/** The keys that exist now (a revert brings deleted rows back and removes created ones). */
async function refreshKeys(): Promise<void> {
  keys.items = new Set(
    (await servers.sourceQuery<{ id: string }>("select id::text from items")).map((r) => Number(r.id)),
  );
  const hostile = await servers.sourceQuery<{ k1: number; k2: string }>(
    `select "k 1" as k1, "K""2" as k2 from ${HOSTILE}`,
  );
  keys.hostile = new Set(hostile.map((r) => JSON.stringify([r.k1, r.k2])));
}

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(SETUP_SQL);
  await connectThroughRetrace(servers, { tables: ["public.items", `${HOSTILE_SCHEMA}.${HOSTILE_TABLE}`] });
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  store = connectStore(servers.storeUrl, { max: 2 });
  token = (await createApiToken(store.db, "reverts")).token;
  route = (await import("@/app/api/reverts/route")).POST as Route;
  worker = startTestWorker(servers);
  // Rows that exist before anything is reverted.
  await transaction(randomTransaction(30));
  await stored();
});

afterAll(async () => {
  await worker?.stop();
  await store?.pool.end();
  const { getStore } = await import("@/lib/db");
  await getStore()
    .pool.end()
    .catch(() => undefined);
  await servers?.stop();
});

describe("revert SQL restores the earlier state exactly", () => {
  it("undoes a random transaction (every type, hostile names, composite keys, rows changed twice)", async () => {
    for (let round = 0; round < 4; round++) {
      const before = await state();
      const xid = await transaction(randomTransaction(12 + round * 4));
      await stored();
      expect(await state()).not.toEqual(before);
      const result = await plan({ transactionOf: await changeOf(xid) });
      expect(result.conflicts, `seed ${SEED} round ${round}`).toEqual([]);
      expect(result.sql).toContain(HOSTILE);
      await applyByHand(result);
      expect(await state(), `seed ${SEED} round ${round}`).toEqual(before);
      await stored();
    }
  });

  it("undoes every change with a context value, across transactions, newest first", async () => {
    const before = await state();
    const context = JSON.stringify({ request_id: `req-${SEED}`, n: 12345678901234567890n.toString() });
    for (let i = 0; i < 3; i++) await transaction(randomTransaction(6), context);
    await stored();
    const result = await plan({ context: JSON.parse(context) as object });
    expect(result.changeCount).toBe(18);
    expect(result.conflicts).toEqual([]);
    await applyByHand(result);
    expect(await state()).toEqual(before);
    await stored();
  });

  it("undoes a single change", async () => {
    const before = await state();
    const xid = await transaction([randomStatement(rng, keys)]);
    await stored();
    const result = await plan({ changeId: await changeOf(xid) });
    expect(result.changeCount).toBe(1);
    await applyByHand(result);
    expect(await state()).toEqual(before);
    await stored();
  });
});

describe("conflicts", () => {
  it("finds rows changed again later, gone, and back again, and says which and why", async () => {
    await transaction([
      { text: "insert into items (id, label) values (900001, 'x'), (900002, 'y'), (900003, 'z')", values: [] },
    ]);
    const xid = await transaction([
      { text: "update items set label = 'changed' where id = 900001", values: [] },
      { text: "update items set label = 'soon gone' where id = 900002", values: [] },
      { text: "delete from items where id = 900003", values: [] },
    ]);
    await transaction([
      { text: "update items set label = 'again' where id = 900001", values: [] },
      { text: "delete from items where id = 900002", values: [] },
      { text: "insert into items (id, label) values (900003, 'back')", values: [] },
    ]);
    await stored();
    const result = await plan({ transactionOf: await changeOf(xid) });
    const reasons = (key: string) =>
      result.conflicts
        .filter((c) => c.primaryKey === key)
        .map((c) => c.reason)
        .sort();
    expect(reasons("900001")).toEqual(["changed_again", "row_differs"]);
    expect(reasons("900002")).toEqual(["changed_again", "row_gone"]);
    expect(reasons("900003")).toEqual(["changed_again", "row_exists"]);
    const differs = result.conflicts.find((c) => c.reason === "row_differs");
    expect(differs?.message).toContain('"label"');
    expect(result.conflicts.find((c) => c.reason === "changed_again")?.message).toMatch(
      /^Changed again later by change \d+ \((UPDATE|DELETE|CREATE) at \d{4}-/,
    );
    // Execution is refused, with the conflicts, and changes nothing.
    const before = await state();
    const refused = await post({ transactionOf: await changeOf(xid), execute: true });
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe("conflict");
    expect(await state()).toEqual(before);
  });

  it("finds a live row that differs from what the trail shows, before the worker has seen the change", async () => {
    const xid = await transaction([{ text: "insert into items (id, label) values (900010, 'new')", values: [] }]);
    await stored();
    await worker?.stop();
    worker = undefined;
    try {
      await servers.sourceQuery("update items set label = 'behind the trail' where id = 900010");
      expected += 1;
      const result = await plan({ changeId: await changeOf(xid) });
      expect(result.conflicts.map((c) => c.reason)).toEqual(["row_differs"]);
    } finally {
      worker = startTestWorker(servers);
    }
    await stored();
  });

  it("says when an image lacks columns (REPLICA IDENTITY DEFAULT) rather than write a row half back", async () => {
    await transaction([{ text: "insert into items (id, label, big) values (900040, 'd', 7)", values: [] }]);
    await servers.sourceQuery("alter table items replica identity default");
    try {
      const xid = await transaction([{ text: "delete from items where id = 900040", values: [] }]);
      await stored();
      const result = await plan({ changeId: await changeOf(xid) });
      expect(result.statements).toEqual([]);
      expect(result.conflicts).toHaveLength(1);
      expect(result.conflicts[0]?.reason).toBe("incomplete_image");
      expect(result.conflicts[0]?.message).toContain('"price", "big", "doc"');
    } finally {
      await servers.sourceQuery("alter table items replica identity full");
    }
  });

  it("says a TRUNCATE cannot be reverted from the trail", async () => {
    const xid = await transaction([{ text: `truncate ${HOSTILE}`, values: [] }]);
    await stored();
    const result = await plan({ changeId: await changeOf(xid) });
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0]).toMatchObject({ reason: "truncate", schema: HOSTILE_SCHEMA, table: HOSTILE_TABLE });
    expect(result.statements).toEqual([]);
    keys.hostile.clear();
  });
});

describe("executing", () => {
  it("runs in one transaction against the source, labelled in the trail with the revert's context", async () => {
    const before = await state();
    const xid = await transaction(randomTransaction(10));
    await stored();
    const of = await changeOf(xid);
    const { status, body } = await post({ transactionOf: of, execute: true });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.executed?.statements).toBe(body.statements.filter((s) => !s.sql.startsWith("--")).length);
    expect(await state()).toEqual(before);
    expected += body.executed?.rows ?? 0;
    await refreshKeys();
    await stored();
    const labelled = await servers.storeQuery<{ n: number; xids: number; context: string }>(
      `select count(*)::int as n, count(distinct transaction_id)::int as xids, min(context::text) as context
       from changes where context @> $1::jsonb`,
      [JSON.stringify({ retrace: "revert", of: { transactionOf: of } })],
    );
    expect(labelled[0]?.n).toBe(body.executed?.rows);
    expect(labelled[0]?.xids).toBe(1);
    expect(JSON.parse(labelled[0]?.context ?? "{}")).toEqual({
      retrace: "revert",
      of: { transactionOf: of, transactionId: xid },
      by: "token reverts",
    });
    // Retrace's own audit log names who ran it, on which database, and what it undid.
    const audited = await servers.storeQuery<{ actor: string; target: string; rows: number }>(
      `select actor_label as actor, target_label as target, (details->>'rows')::int as rows
       from audit_events where action = 'revert.execute' order by at desc limit 1`,
    );
    expect(audited[0]).toEqual({ actor: "reverts", target: expect.any(String), rows: body.executed?.rows });
  });

  it("is for admins: a viewer gets the SQL but a 403 on execute", async () => {
    const { getDb } = await import("@/lib/db");
    const { createUser } = await import("@/lib/auth/users");
    const { sessionToken, SESSION_MAX_AGE_SECONDS } = await import("@/lib/auth/sessions");
    const viewer = await createUser(getDb(), {
      email: "viewer@example.com",
      password: "correct horse",
      role: "viewer",
    });
    const jwt = await sessionToken(getDb(), { sub: viewer.id, email: viewer.email }, viewer);
    const encoded = await encode({ token: jwt, secret: sessionSecret(SECRET), maxAge: SESSION_MAX_AGE_SECONDS });
    const cookie = `next-auth.session-token=${encoded}`;
    const xid = await transaction([{ text: "insert into items (id, label) values (900020, 'v')", values: [] }]);
    await stored();
    const of = await changeOf(xid);
    const planned = await post({ changeId: of, execute: false }, { cookie });
    expect(planned.status).toBe(200);
    expect(planned.body.sql).toContain('DELETE FROM "public"."items" WHERE "id" = \'900020\'::bigint;');
    const refused = await post({ changeId: of, execute: true }, { cookie });
    expect(refused.status).toBe(403);
    expect((await servers.sourceQuery("select 1 from items where id = 900020")).length).toBe(1);
  });

  it("runs only if its audit row can be written: a store refusing it leaves the source as it was", async () => {
    const xid = await transaction([{ text: "insert into items (id, label) values (900030, 'a')", values: [] }]);
    await stored();
    const of = await changeOf(xid);
    await servers.storeQuery(`create function refuse_audit() returns trigger language plpgsql as $$
                              begin raise exception 'audit_events refused by the test'; end $$`);
    await servers.storeQuery(
      "create trigger refuse_audits before insert on audit_events for each row execute function refuse_audit()",
    );
    let refused: Awaited<ReturnType<typeof post>>;
    try {
      refused = await post({ changeId: of, execute: true });
    } finally {
      await servers.storeQuery("drop trigger refuse_audits on audit_events");
      await servers.storeQuery("drop function refuse_audit()");
    }
    expect(refused.status).toBe(500);
    expect((await servers.sourceQuery("select 1 from items where id = 900030")).length).toBe(1);
    const done = await post({ changeId: of, execute: true });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await servers.sourceQuery("select 1 from items where id = 900030")).length).toBe(0);
    expected += done.body.executed?.rows ?? 0;
    await refreshKeys();
    await stored();
  });

  it("answers 400 naming the parameter, 404 for an unknown change", async () => {
    expect((await post({ execute: false })).status).toBe(400);
    expect((await post({ changeId: "abc" })).status).toBe(400);
    expect((await post({ changeId: "1", transactionOf: "1" })).status).toBe(400);
    expect((await post({ context: {} })).status).toBe(400);
    expect((await post({ changeId: "999999999" })).status).toBe(404);
  });

  it("is bounded, and a context found in several databases must name one", async () => {
    // Rows in the trail only (another source, never at any server): selection is refused before any source is asked.
    // Summarised as the worker does, since a revert by context finds its changes through the summary.
    const other = "00000000-0000-4000-8000-0000000000ee";
    const insert = async (count: number, context: string) => {
      const [ids] = await servers.storeQuery<{ from: string; to: string }>(
        `with written as (
           insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
             context, transaction_id, commit_lsn, seq, committed_at, queued_at)
           select $1::uuid, 'test', 'elsewhere', 'public', 'items', g::text, 'CREATE', '{}'::json, $2::jsonb, 1,
                  'FF/0'::pg_lsn, g, now(), now()
           from generate_series(1, $3::int) g returning id)
         select min(id)::text as from, max(id)::text as to from written`,
        [other, context, count],
      );
      await summarizeStoredRows(servers.storePool, ids?.from ?? "0", ids?.to ?? "0");
    };
    await insert(2001, '{"job":"bulk"}');
    const tooMany = await post({ context: { job: "bulk" } });
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain("more than 2000 changes");
    await servers.storeQuery("delete from changes where source_id = $1::uuid", [other]);

    await transaction([{ text: "insert into items (id, label) values (900030, 'c')", values: [] }], '{"job":"two"}');
    await stored();
    await insert(1, '{"job":"two"}');
    const several = await post({ context: { job: "two" } });
    expect(several.status).toBe(400);
    expect(JSON.stringify(several.body)).toContain("pass sourceId");
    const [source] = await servers.storeQuery<{ id: string }>("select id::text from sources");
    const one = await post({ context: { job: "two" }, sourceId: source?.id });
    expect(one.status).toBe(200);
    expect(one.body.changeCount).toBe(1);
    expect(one.body.sql).toContain(`DELETE FROM "public"."items" WHERE "id" = '900030'::bigint;`);
    await servers.storeQuery("delete from changes where source_id = $1::uuid", [other]);
  });
});

describe("round trips to the source", () => {
  it("checks and undoes 600 rows in a batch of statements per round trip, not one each", async () => {
    const before = await state();
    const xid = await transaction([
      { text: "insert into items (id, label) select 800000 + g, 'bulk' from generate_series(1, 600) g", values: [] },
    ]);
    await stored();
    const of = await changeOf(xid);
    // Every query a pg client sends to the source's port (the store is another server).
    const spy = vi.spyOn(pg.Client.prototype, "query");
    const sentToSource = () => spy.mock.contexts.filter((client) => (client as pg.Client).port === servers.source.port);
    try {
      const planned = await plan({ transactionOf: of });
      expect(planned.statements).toHaveLength(600);
      expect(planned.conflicts).toEqual([]);
      const planning = sentToSource().length;
      expect(planning).toBeGreaterThan(0);
      expect(planning).toBeLessThan(15);
      const { status, body } = await post({ transactionOf: of, execute: true });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.executed).toEqual({ statements: 600, rows: 600 });
      expect(sentToSource().length - planning).toBeLessThan(25);
    } finally {
      spy.mockRestore();
    }
    expect(await state()).toEqual(before);
    expected += 600;
    await refreshKeys();
    await stored();
  });

  it("finds the one row of 300 changed at the source since, in a later batch of checks, and refuses", async () => {
    const xid = await transaction([
      { text: "insert into items (id, label) select 810000 + g, 'bulk' from generate_series(1, 300) g", values: [] },
    ]);
    await stored();
    const of = await changeOf(xid);
    // Changed at the source, not yet in the trail as far as the revert's check goes: it is found live, by the
    // batch of checks, and the revert refuses with that row named.
    await servers.sourceQuery("update items set label = 'moved' where id = 810030");
    expected += 1;
    const before = await state();
    const { status, body } = await post({ transactionOf: of, execute: true });
    expect(status, JSON.stringify(body)).toBe(409);
    expect(JSON.stringify(body).match(/row_differs/g)).toHaveLength(1);
    expect(JSON.stringify(body)).toContain("label");
    expect(await state()).toEqual(before);
    await stored();
  });
});
