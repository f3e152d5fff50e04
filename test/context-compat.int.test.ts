import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServers, trackTables, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";
import type { Worker } from "../worker/worker";

// Context from other tools, against a real source and the real worker: Bemi's row trigger
// (`/*Bemi {json} Bemi*/` comments turned into one `_bemi` message per row), Sequin's
// transaction annotations, and a row trigger of one's own emitting `_retrace`.
let servers: Servers;
let worker: Worker;
let sourceId: string;

/**
 * The trigger Bemi's migration installs, written from its documented behaviour: a BEFORE row
 * trigger that finds the `/*Bemi … Bemi*\/` comment in the statement being run and emits its
 * JSON as a transactional `_bemi` message, just before the row change it fires for.
 */
const BEMI_TRIGGER = `
  create function bemi_context_trigger() returns trigger language plpgsql as $$
  declare
    context text := split_part(split_part(current_query(), '/*Bemi ', 2), ' Bemi*/', 1);
  begin
    if context <> '' then
      perform pg_logical_emit_message(true, '_bemi', context);
    end if;
    if tg_op = 'DELETE' then return old; end if;
    return new;
  end $$;
  create trigger bemi_context before insert or update or delete on todos
    for each row execute function bemi_context_trigger();
`;

type Stored = { key: string | null; op: string; context: Record<string, unknown> | null };

async function stored(table: string, count: number): Promise<Stored[]> {
  return waitFor(`${count} changes of ${table}`, async () => {
    const rows = await servers.storeQuery<Stored>(
      `select primary_key as key, operation::text as op, context from changes
        where source_id = $1 and "table" = $2 order by commit_lsn, seq`,
      [sourceId, table],
    );
    return rows.length >= count && rows;
  });
}

/** Runs each statement on its own (as an ORM does, one comment per statement) in one transaction. */
async function transaction(statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: servers.sourceUrl });
  await client.connect();
  try {
    await client.query("begin");
    for (const statement of statements) await client.query(statement);
    await client.query("commit");
  } finally {
    await client.end();
  }
}

const bemi = (context: object) => `/*Bemi ${JSON.stringify(context)} Bemi*/`;

beforeAll(async () => {
  servers = await startServers();
  await servers.sourceQuery(`
    create table todos (id int primary key, task text, done boolean default false);
    create table sequin_items (id int primary key, v text);
    create table audited (id int primary key, v text);
    ${BEMI_TRIGGER}
    create function retrace_row_context() returns trigger language plpgsql as $$
    begin
      perform pg_logical_emit_message(true, '_retrace', json_build_object('row', new.id, 'v', new.v)::text);
      return new;
    end $$;
    create trigger retrace_row_context before insert or update on audited
      for each row execute function retrace_row_context();
  `);
  sourceId = await trackTables(servers, {
    tables: ["todos", "sequin_items", "audited"],
    publication: "compat_pub",
    slot: "compat_slot",
  });
  worker = startTestWorker(servers);
});

afterAll(async () => {
  await worker?.stop();
  await servers?.stop();
});

describe("Bemi's row trigger", () => {
  it("attaches each message to the one row change it precedes, as Bemi's worker does", async () => {
    const big = { userId: 1, note: "é".repeat(150_000) }; // ~300 KB: over Retrace's own 64 KiB, within Bemi's limit
    await transaction([
      // Two rows, one comment: the trigger fires (and emits) once per row.
      `insert into todos (id, task) values (1, 'a'), (2, 'b') ${bemi({ userId: 1, endpoint: "POST /todos" })}`,
      // A statement without a comment after one with it: no context.
      "update todos set done = true where id = 1",
      // ON CONFLICT DO NOTHING: the trigger fires for the conflicting row, nothing is written,
      // and the message belongs to no change; the next commented statement has its own.
      `insert into todos (id, task) values (1, 'dup') on conflict do nothing ${bemi({ userId: 2, orphan: true })}`,
      `update todos set task = 'b2' where id = 2 ${bemi({ userId: 3 })}`,
      `delete from todos where id = 1 ${bemi(big)}`,
      // Left waiting at the end of the transaction: attaches to nothing.
      `insert into todos (id, task) values (2, 'dup') on conflict do nothing ${bemi({ userId: 4, orphan: true })}`,
    ]);
    await transaction([
      `insert into todos (id, task) values (3, 'c') on conflict do nothing ${bemi({ userId: 5, orphan: false })}`,
      `insert into todos (id, task) values (3, 'c') on conflict do nothing ${bemi({ userId: 6, orphan: true })}`,
      // No row trigger fires on TRUNCATE: it carries no Bemi context, nor the waiting one.
      `truncate todos ${bemi({ userId: 7 })}`,
      "insert into todos (id, task) values (4, 'after truncate')",
    ]);
    const changes = await stored("todos", 8);
    expect(changes.map(({ key, op }) => [key, op])).toEqual([
      ["1", "CREATE"],
      ["2", "CREATE"],
      ["1", "UPDATE"],
      ["2", "UPDATE"],
      ["1", "DELETE"],
      ["3", "CREATE"],
      [null, "TRUNCATE"],
      ["4", "CREATE"],
    ]);
    expect(changes.map(({ context }) => context)).toEqual([
      { userId: 1, endpoint: "POST /todos" },
      { userId: 1, endpoint: "POST /todos" },
      null,
      { userId: 3 },
      big,
      { userId: 5, orphan: false },
      null,
      null,
    ]);
  });

  it("pairs a message left without its row as Bemi's worker does: by WAL position", async () => {
    await servers.sourceQuery("insert into todos (id, task) values (20, 'x'), (21, 'y')");
    await transaction([
      // The conflicting row's message is followed directly by the next INSERT's row record:
      // Bemi's worker pairs them, and so does Retrace.
      `insert into todos (id, task) values (20, 'dup') on conflict do nothing ${bemi({ orphan: "insert" })}`,
      "insert into todos (id, task) values (22, 'z')",
      // An UPDATE locks its row (a WAL record) before its trigger fires: no pairing.
      `insert into todos (id, task) values (20, 'dup') on conflict do nothing ${bemi({ orphan: "update" })}`,
      "update todos set done = true where id = 21",
      // An UPDATE whose new row must be TOASTed writes a lock record between the trigger's message
      // and the row: Bemi's worker loses that context, and Retrace keeps to Bemi's pairing.
      `update todos set task = (select string_agg(md5(g::text), '') from generate_series(1, 400) g)
        where id = 22 ${bemi({ toast: true })}`,
      `update todos set task = 'short' where id = 20 ${bemi({ toast: false })}`,
    ]);
    const changes = await waitFor("the orphan transaction", async () => {
      const rows = await servers.storeQuery<Stored>(
        `select primary_key as key, operation::text as op, context from changes
          where source_id = $1 and "table" = 'todos' and primary_key::int >= 20 order by commit_lsn, seq`,
        [sourceId],
      );
      return rows.length >= 6 && rows;
    });
    expect(changes.slice(2).map(({ key, op, context }) => [key, op, context])).toEqual([
      ["22", "CREATE", { orphan: "insert" }],
      ["21", "UPDATE", null],
      ["22", "UPDATE", null],
      ["20", "UPDATE", { toast: false }],
    ]);
  });
});

describe("Sequin's transaction annotations", () => {
  it("apply to the later changes of the transaction until cleared", async () => {
    await transaction([
      "insert into sequin_items values (1, 'before')",
      `select pg_logical_emit_message(true, 'sequin:transaction_annotations.set',
         '{"username":"ada","request_id":"r-1","n":12345678901234567890}')`,
      "insert into sequin_items values (2, 'a')",
      "update sequin_items set v = 'b' where id = 1",
      "select pg_logical_emit_message(true, 'sequin:transaction_annotations.clear', '')",
      "delete from sequin_items where id = 2",
    ]);
    await transaction(["insert into sequin_items values (3, 'next transaction')"]);
    const changes = await stored("sequin_items", 5);
    const annotated = { username: "ada", request_id: "r-1", n: 12345678901234567890 };
    expect(changes.map(({ key, op, context }) => [key, op, context])).toEqual([
      ["1", "CREATE", null],
      ["2", "CREATE", annotated],
      ["1", "UPDATE", annotated],
      ["2", "DELETE", null],
      ["3", "CREATE", null],
    ]);
    // The number keeps every digit (checked in SQL: a JavaScript number would have rounded it).
    const [exact] = await servers.storeQuery<{ n: string }>(
      `select context->>'n' as n from changes
        where source_id = $1 and "table" = 'sequin_items' and primary_key = '2' and operation = 'CREATE'`,
      [sourceId],
    );
    expect(exact?.n).toBe("12345678901234567890");
  });
});

describe("context sent once per row by a row trigger", () => {
  it("stitches each row's message to that row", async () => {
    await servers.sourceQuery("insert into audited select g, 'v' || g from generate_series(1, 5) g");
    await servers.sourceQuery("update audited set v = v || '!' where id in (2, 4)");
    const changes = await stored("audited", 7);
    for (const change of changes) {
      expect(change.context).toMatchObject({ row: Number(change.key) });
    }
    expect(changes.filter((c) => c.op === "UPDATE").map((c) => c.context)).toEqual([
      { row: 2, v: "v2!" },
      { row: 4, v: "v4!" },
    ]);
  });
});
