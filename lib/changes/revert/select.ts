import type { Queryable } from "../../db/client";
import { Invalid, NotFound } from "../../errors";
import type { ChangeRow } from "../change";
import { readChanges } from "../list";
import { findChangeRow, readTransaction } from "../locate";
import { resolveScope } from "../scope";
import type { RevertChange } from "./plan";

/** The most changes one revert may undo: beyond it the script, the checks and the lock set grow unreasonable. */
export const MAX_REVERT_CHANGES = 2000;

/** What to revert: one change, the whole transaction of a change, or every change whose context holds `context`. */
export type RevertTarget = { changeId: string } | { transactionOf: string } | { context: string; sourceId?: string };

export type RevertSelection = {
  sourceId: string;
  database: string;
  /** Newest first. */
  changes: RevertChange[];
  /** For people: "change 12", "the transaction of change 12", "changes with context {...}". */
  description: string;
  /** The `of` of the context the revert carries, as JSON text. */
  of: string;
};

function toRevertChange(row: ChangeRow): RevertChange {
  return {
    id: row.id,
    schema: row.schema,
    table: row.table,
    primaryKey: row.primary_key,
    operation: row.operation,
    before: row.before,
    after: row.after,
    changedFields: row.changed_fields,
    unavailableFields: row.unavailable_fields,
    beforeJsonNullFields: row.before_json_null_fields,
    afterJsonNullFields: row.after_json_null_fields,
  };
}

const tooMany = () =>
  new Invalid(
    `That is more than ${MAX_REVERT_CHANGES} changes, the most one revert undoes; revert a narrower set ` +
      "(one transaction, or a more specific context).",
  );

/** A change by id, read only where it can be (lib/changes/locate.ts). */
async function one(db: Queryable, id: string): Promise<ChangeRow> {
  const row = await findChangeRow(db, id);
  if (!row) throw new NotFound("Change");
  return row;
}

/** The changes a target names, newest first, all of one source (a context matching several must name one). */
export async function selectChanges(db: Queryable, target: RevertTarget): Promise<RevertSelection> {
  if ("changeId" in target) {
    const row = await one(db, target.changeId);
    return {
      sourceId: row.source_id,
      database: row.database,
      changes: [toRevertChange(row)],
      description: `change ${row.id}`,
      of: JSON.stringify({ changeId: row.id }),
    };
  }
  if ("transactionOf" in target) {
    const change = await one(db, target.transactionOf);
    // Its changes in commit order from the partitions holding its commit time; the revert undoes them backwards.
    const rows = (await readTransaction(db, change, undefined, MAX_REVERT_CHANGES + 1)).reverse();
    if (rows.length > MAX_REVERT_CHANGES) throw tooMany();
    const first = rows[0];
    if (!first) throw new NotFound("Change");
    return {
      sourceId: change.source_id,
      database: first.database,
      changes: rows.map(toRevertChange),
      description: `the transaction of change ${target.transactionOf} (transaction ${first.transaction_id})`,
      of: JSON.stringify({ transactionOf: target.transactionOf, transactionId: first.transaction_id }),
    };
  }
  // Read as the change list reads a context filter: where the summary's context entries say such changes are.
  const scope = await resolveScope(db, {
    context: target.context,
    ...(target.sourceId === undefined ? {} : { sourceId: target.sourceId }),
  });
  const rows = scope === null ? [] : await readChanges(db, scope, null, MAX_REVERT_CHANGES + 1);
  if (rows.length > MAX_REVERT_CHANGES) throw tooMany();
  const sources = new Map(rows.map((row) => [row.source_id, row.database]));
  if (sources.size > 1) {
    throw new Invalid(
      `Changes with that context were made in ${sources.size} databases (${[...sources.values()].join(", ")}); ` +
        "a revert runs against one: pass sourceId.",
      { sources: [...sources].map(([id, database]) => ({ sourceId: id, database })) },
    );
  }
  const first = rows[0];
  if (!first) throw new NotFound("Changes with that context");
  return {
    sourceId: first.source_id,
    database: first.database,
    changes: rows.map(toRevertChange),
    description: `the changes with context ${target.context}`,
    of: `{"context":${target.context}}`,
  };
}
