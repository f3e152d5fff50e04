import type pg from "pg";
import { recordAudit, type AuditActor } from "../../audit/record";
import type { Queryable } from "../../db/client";
import { AppError, Conflict, NotFound } from "../../errors";
import { createLogger } from "../../log";
import { withSourceClient } from "../../sources/connection";
import { InsufficientPrivilege } from "../../sources/errors";
import { getSourceConnection } from "../../sources/queries";
import { queryEach } from "./batch";
import { readTables } from "./catalog";
import { groupByRow, liveConflicts, trailConflicts } from "./conflicts";
import { contextMessageSql, planRevert, revertScript, type RevertConflict, type RevertStatement } from "./plan";
import { selectChanges, type RevertSelection, type RevertTarget } from "./select";

const log = createLogger("reverts");

/**
 * Reverting: plan (the script and its conflicts, read-only, for anyone who may read the trail) and execute (an
 * admin's: one source transaction, the rows re-checked under lock, labelled with a `_retrace` context message so
 * the changes it makes appear in the trail as the revert's).
 */

export type RevertResult = {
  sourceId: string;
  database: string;
  description: string;
  /** How many changes the revert undoes (statements may be fewer: see conflicts). */
  changeCount: number;
  /** The whole script: BEGIN, the context message, a statement per change, newest first, COMMIT. */
  sql: string;
  statements: RevertStatement[];
  /** Why it cannot run as planned; execution is refused while there are any. */
  conflicts: RevertConflict[];
  /** The context the revert's own changes carry in the trail, as JSON text. */
  context: string;
  /** Set once executed: statements run and rows they changed. */
  executed: { statements: number; rows: number } | null;
};

/** Execution refused: the conflicts (and the script) are in `details`. HTTP-free: lib/http maps it to 409. */
export class RevertConflicts extends AppError {
  constructor(result: RevertResult) {
    super(
      "conflict",
      `The revert was not run: ${result.conflicts.length} conflict${result.conflicts.length === 1 ? "" : "s"} ` +
        "(listed in details.conflicts). Nothing was changed.",
      { conflicts: result.conflicts, sql: result.sql },
    );
  }
}

/** `by`: who asks (an email or a token's name), recorded in the revert's context. */
function contextJson(of: string, by: string): string {
  return `{"retrace":"revert","of":${of},"by":${JSON.stringify(by)}}`;
}

async function connection(db: Queryable, secret: string, sourceId: string) {
  const source = await getSourceConnection(db, sourceId, secret);
  if (!source) throw new NotFound("Database");
  return source.connection;
}

async function plan(db: Queryable, client: pg.ClientBase, selection: RevertSelection, by: string, lock: boolean) {
  const tables = await readTables(client, selection.changes);
  const planned = planRevert(selection.changes, tables);
  const groups = groupByRow(selection.changes);
  const ids = selection.changes.map((change) => change.id);
  const conflicts = [
    ...planned.conflicts,
    ...(await trailConflicts(db, selection.sourceId, groups, ids)),
    ...(await liveConflicts(client, groups, tables, lock)),
  ];
  // A row's conflicts together, in the order its changes are undone.
  const order = new Map(ids.map((id, index) => [id, index]));
  conflicts.sort((a, b) => (order.get(a.changeId) ?? 0) - (order.get(b.changeId) ?? 0));
  const context = contextJson(selection.of, by);
  const result: RevertResult = {
    sourceId: selection.sourceId,
    database: selection.database,
    description: selection.description,
    changeCount: selection.changes.length,
    sql: revertScript(selection.description, context, planned.statements),
    statements: planned.statements,
    conflicts,
    context,
    executed: null,
  };
  return result;
}

/** The revert's script and conflicts, without changing anything. */
export async function planRevertOf(db: Queryable, secret: string, target: RevertTarget, by: string) {
  const selection = await selectChanges(db, target);
  const conn = await connection(db, secret, selection.sourceId);
  return withSourceClient(conn, (client) => plan(db, client, selection, by, false));
}

function pgCode(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/**
 * Runs the revert in one source transaction; refused (RevertConflicts) when any conflict is found under lock.
 * Audited as `revert.execute` by `actor`: the audit row is written in a store transaction that commits just after
 * the source's, so a store that refuses the row leaves the source unchanged. Only a store commit failing after the
 * source's leaves a revert unaudited (the request then fails; the revert's changes still carry its context).
 */
export async function executeRevert(
  db: Queryable,
  secret: string,
  target: RevertTarget,
  by: string,
  actor: AuditActor,
): Promise<RevertResult> {
  const selection = await selectChanges(db, target);
  const conn = await connection(db, secret, selection.sourceId);
  return withSourceClient(
    conn,
    async (client) => {
      // Where an error came from: the source's statements or commit (mapped below), the audit row's store
      // transaction (answered as it is: the source is rolled back), or the store's commit after the source's.
      const at: { step: "source" | "audit" | "committed" } = { step: "source" };
      await client.query("BEGIN");
      try {
        // Bounded waits: a revert must not queue behind (or hold up) the application for long.
        await client.query("SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '60s'");
        const result = await plan(db, client, selection, by, true);
        if (result.conflicts.length > 0) throw new RevertConflicts(result);
        await client.query(contextMessageSql(result.context));
        const run = result.statements.filter((statement) => !statement.sql.startsWith("--"));
        // A batch of statements per round trip (./batch.ts); each must have changed its one row.
        const done = await queryEach(
          client,
          run.map((statement) => statement.sql),
        );
        for (const [index, statement] of run.entries()) {
          const changed = done[index]?.rowCount ?? 0;
          if (changed !== 1) {
            throw new Conflict(
              `Reverting change ${statement.changeId} changed ${changed} rows instead of one; nothing was changed.`,
            );
          }
        }
        const rows = run.length;
        const statements = run.length;
        const executed = { ...result, executed: { statements, rows } };
        at.step = "audit";
        await db.transaction(async (tx) => {
          await recordAudit(
            tx,
            actor,
            "revert.execute",
            { type: "database", id: executed.sourceId, label: executed.database },
            { of: executed.description, statements, rows },
          );
          at.step = "source";
          await client.query("COMMIT");
          at.step = "committed";
        });
        return executed;
      } catch (error) {
        if (at.step === "committed") {
          log.error({ err: error, sourceId: selection.sourceId }, "a revert ran at the source; its audit row was lost");
          throw error;
        }
        await client.query("ROLLBACK").catch(() => undefined);
        if (error instanceof AppError || at.step === "audit") throw error;
        const message = error instanceof Error ? error.message : String(error);
        if (pgCode(error) === "42501") {
          throw new InsufficientPrivilege(
            `Retrace's role may not write this table at the source: ${message}. Nothing was changed.`,
            "Run the revert SQL yourself as a role that may write the table, or grant Retrace's role " +
              "INSERT, UPDATE and DELETE on it.",
          );
        }
        if (pgCode(error)?.startsWith("23") || pgCode(error) === "55P03" || pgCode(error) === "57014") {
          throw new Conflict(`The source refused the revert: ${message}. Nothing was changed.`);
        }
        throw error;
      }
    },
    // The statements have the source's own 60 s limit (statement_timeout above); ours comes after it.
    { queryTimeoutMs: 65_000 },
  );
}
