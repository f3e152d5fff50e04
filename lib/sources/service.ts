import type { AuditAction } from "../audit/actions";
import { recordAudit, type AuditActor } from "../audit/record";
import type { Db, Queryable } from "../db/client";
import { NotFound } from "../errors";
import { sealState, type SealState } from "../seals/state";
import { columnRulesSchema, storedColumnRules, type ColumnRules } from "./column-rules";
import { updateDatabaseSettings, updateDatabaseSchema } from "./edit";
import { setEnabledSchema } from "./input";
import {
  getColumnRules,
  getSource,
  listSources,
  saveColumnRules,
  setSourceEnabled,
  type SourceSummary,
} from "./queries";
import { forgetSlotReading, withSlotReadings, type WithSlot } from "./slot-readings";
import { removedConflict, sourceId } from "./stored-source";
import { setTrackNewTables } from "./tracked-tables";
import { listTrackedTables, type TrackedTableRow } from "./tracked-table-queries";

/**
 * The connected databases as the API shows and changes them: describing them, their settings,
 * column rules, pause / resume and removal. Connecting is connect-database.ts, their tables
 * tracked-tables.ts.
 */

export async function getDatabase(
  db: Queryable,
  id: string,
): Promise<{ database: SourceSummary; tables: TrackedTableRow[]; seals: SealState }> {
  const database = await getSource(db, sourceId(id));
  if (!database) throw new NotFound("Database");
  return { database, tables: await listTrackedTables(db, id), seals: await sealState(db, database.id) };
}

/**
 * Notes in the audit log that `actor` did `action` to the database `id`, in `tx` (the transaction of the change it
 * describes): named as it is now.
 */
export async function recordDatabaseAudit(
  tx: Queryable,
  actor: AuditActor,
  action: AuditAction,
  id: string,
  details: Record<string, unknown>,
): Promise<void> {
  const database = await getSource(tx, sourceId(id));
  if (!database) throw new NotFound("Database");
  await recordAudit(tx, actor, action, { type: "database", id: database.id, label: database.name }, details);
}

/**
 * PATCH /api/databases/:id: settings and credentials (verified at the source before they are saved), "track new
 * tables automatically", pause / resume. The whole body is validated before anything is applied.
 */
export async function updateDatabase(
  db: Queryable,
  secret: string,
  id: string,
  input: unknown,
): Promise<{ database: SourceSummary; changed: string[] }> {
  const { enabled, trackNewTables, ...settings } = updateDatabaseSchema.parse(input);
  if (!(await getSource(db, sourceId(id)))) throw new NotFound("Database");
  let changed: string[] = [];
  if (Object.values(settings).some((value) => value !== undefined)) {
    changed = (await updateDatabaseSettings(db, secret, id, settings)).changed;
  }
  if (trackNewTables !== undefined) await setTrackNewTables(db, secret, id, trackNewTables);
  if (enabled !== undefined) await setDatabaseEnabled(db, id, { enabled });
  const updated = await getSource(db, id);
  if (!updated) throw new NotFound("Database");
  return { database: updated, changed };
}

/** The source's column rules (lib/sources/column-rules.ts). */
export async function columnRules(db: Db, id: string): Promise<ColumnRules> {
  const rules = await getColumnRules(db, sourceId(id));
  if (rules === null) throw new NotFound("Database");
  return storedColumnRules(rules);
}

/** Replaces the column rules; the worker streams with them within a poll interval. */
export async function updateColumnRules(db: Queryable, id: string, input: unknown): Promise<ColumnRules> {
  const rules = columnRulesSchema.parse(input);
  if (!(await saveColumnRules(db, sourceId(id), rules))) throw new NotFound("Database");
  return rules;
}

/** Pause (enabled: false) or resume (enabled: true); the slot keeps its place meanwhile. */
export async function setDatabaseEnabled(db: Queryable, id: string, input: unknown): Promise<SourceSummary> {
  const { enabled } = setEnabledSchema.parse(input);
  const updated = await setSourceEnabled(db, sourceId(id), enabled);
  if (!updated) {
    if ((await getSource(db, id))?.removedAt) throw removedConflict();
    throw new NotFound("Database");
  }
  forgetSlotReading(id);
  return updated;
}

/** Every database with its slot as the source reports it (lib/sources/slot-readings.ts). */
export async function listDatabases(
  db: Db,
  secret: string,
  options: { wait?: boolean } = {},
): Promise<WithSlot<SourceSummary>[]> {
  return withSlotReadings(db, secret, await listSources(db), options);
}

/** One database, its tracked tables, and its slot as the source reports it. */
export async function describeDatabase(
  db: Db,
  secret: string,
  id: string,
): Promise<{ database: WithSlot<SourceSummary>; tables: TrackedTableRow[]; seals: SealState }> {
  const { database, tables, seals } = await getDatabase(db, id);
  const [withSlot] = await withSlotReadings(db, secret, [database]);
  return { database: withSlot ?? { ...database, slot: null }, tables, seals };
}

export { removeDatabase } from "./remove";
