import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client";
import { AppError, Conflict, Invalid, NotFound } from "../errors";
import { createLogger } from "../log";
import { checkSource, errorForCheck, evaluateChecks, gatherFacts, type CheckReport } from "./checks";
import { withSourceClient } from "./connection";
import { SourceError } from "./errors";
import {
  connectionInputSchema,
  connectInputSchema,
  setEnabledSchema,
  tableListSchema,
  toTableRefs,
  updateTablesSchema,
} from "./input";
import {
  deprovisionSource,
  manualCleanupSql,
  provisionSource,
  replicationNamesFor,
  setPublicationTables,
} from "./provision";
import {
  createSource,
  deleteSource,
  findSourceByAddress,
  getSource,
  getSourceConnection,
  listTrackedTables,
  setSourceEnabled,
  setTrackedTables,
  type SourceSummary,
  type TrackedTableRow,
} from "./queries";
import { listSourceTables, unknownTables, type SourceTable } from "./tables";

/**
 * Orchestrates the source side (checks, publication, slot) and the store side (sources,
 * tracked tables) so that a failure in either leaves nothing half-done.
 */

const log = createLogger("sources");

const idSchema = z.uuid();

function sourceId(id: string): string {
  // A malformed id cannot name a source; answering 404 beats a database cast error.
  if (!idSchema.safeParse(id).success) throw new NotFound("Database");
  return id;
}

async function requireConnection(db: Db, secret: string, id: string) {
  const source = await getSourceConnection(db, sourceId(id), secret);
  if (!source) throw new NotFound("Database");
  return source;
}

/** Runs the connect checks without creating anything (the form's live feedback). */
export async function checkConnection(input: unknown): Promise<CheckReport> {
  const parsed = connectionInputSchema.extend({ tables: tableListSchema.default([]) }).parse(input);
  return checkSource(parsed, toTableRefs(parsed.tables));
}

/**
 * Connects a database: validate, check (failing with the first failed check's error), create
 * publication and slot at the source, then record it in the store; if the store insert fails
 * the source is cleaned up again.
 */
export async function connectDatabase(db: Db, secret: string, input: unknown): Promise<SourceSummary> {
  const parsed = connectInputSchema.parse(input);
  const tables = toTableRefs(parsed.tables);
  const existing = await findSourceByAddress(db, parsed);
  if (existing) {
    throw new Conflict(
      `${parsed.host}:${parsed.port}/${parsed.database} is already connected as "${existing.name}"; ` +
        "connecting it twice would record every change twice.",
    );
  }
  const id = randomUUID();
  const names = replicationNamesFor(id);
  return withSourceClient(parsed, async (client) => {
    const facts = await gatherFacts(client, tables);
    const failed = evaluateChecks(facts, tables).find((check) => !check.ok);
    if (failed) throw errorForCheck(failed);

    await provisionSource(client, names, tables);
    try {
      return await createSource(db, { ...parsed, ...names, id, tables }, secret);
    } catch (error) {
      await deprovisionSource(client, names, { activeWaitMs: 0 }).catch((cleanupError: unknown) => {
        log.error(
          { err: cleanupError, slotName: names.slotName, host: parsed.host, database: parsed.database },
          "could not undo provisioning after the store insert failed",
        );
      });
      throw error;
    }
  });
}

export async function getDatabase(db: Db, id: string): Promise<{ database: SourceSummary; tables: TrackedTableRow[] }> {
  const database = await getSource(db, sourceId(id));
  if (!database) throw new NotFound("Database");
  return { database, tables: await listTrackedTables(db, id) };
}

export type SourceTableWithTracking = SourceTable & { tracked: boolean };

/** The source's tables (read live from its catalog), each marked tracked or not. */
export async function sourceTables(db: Db, secret: string, id: string): Promise<SourceTableWithTracking[]> {
  const source = await requireConnection(db, secret, id);
  const tracked = new Set((await listTrackedTables(db, id)).map((t) => `${t.schema}\u0000${t.table}`));
  const tables = await withSourceClient(source.connection, listSourceTables);
  return tables.map((t) => ({ ...t, tracked: tracked.has(`${t.schema}\u0000${t.name}`) }));
}

/** Makes the tracked set exactly `tables`, at the source (publication) and in the store. */
export async function updateTrackedTables(
  db: Db,
  secret: string,
  id: string,
  input: unknown,
): Promise<TrackedTableRow[]> {
  const source = await requireConnection(db, secret, id);
  const tables = toTableRefs(updateTablesSchema.parse(input).tables);
  await withSourceClient(source.connection, async (client) => {
    const unknown = unknownTables(await listSourceTables(client), tables);
    if (unknown.length > 0) {
      throw new Invalid(`Not found at the source: ${unknown.join(", ")}.`, { unknown });
    }
    await setPublicationTables(client, source.names.publicationName, tables);
  });
  return setTrackedTables(db, id, tables);
}

/** Pause (enabled: false) or resume (enabled: true). */
export async function setDatabaseEnabled(db: Db, id: string, input: unknown): Promise<SourceSummary> {
  const { enabled } = setEnabledSchema.parse(input);
  const updated = await setSourceEnabled(db, sourceId(id), enabled);
  if (!updated) throw new NotFound("Database");
  return updated;
}

/**
 * Removes a database: pause it (the worker lets go of the slot within seconds), drop slot and
 * publication at the source, then delete it from the store together with its captured changes
 * (one store transaction, see deleteSource). When the source cannot be cleaned up nothing is
 * deleted unless `force` is set; the response then carries the SQL to run at the source by hand.
 */
export async function removeDatabase(
  db: Db,
  secret: string,
  id: string,
  options: { force?: boolean } = {},
): Promise<{ id: string; manualCleanupSql: string | null }> {
  const source = await requireConnection(db, secret, id);
  await setSourceEnabled(db, id, false);
  let cleanup: string | null = null;
  try {
    await withSourceClient(source.connection, (client) => deprovisionSource(client, source.names));
  } catch (error) {
    cleanup = manualCleanupSql(source.names);
    if (!options.force) {
      const reason = error instanceof AppError ? error.message : "The source could not be cleaned up.";
      if (!(error instanceof AppError)) log.error({ err: error, sourceId: id }, "deprovisioning failed");
      throw new SourceError(
        error instanceof SourceError ? error.code : "provisioning_failed",
        `${reason} Nothing was removed and the database is paused. Fix the connection and try again, ` +
          "or remove it anyway (force) and run the SQL below at the source.",
        cleanup,
      );
    }
  }
  await deleteSource(db, id);
  return { id, manualCleanupSql: cleanup };
}
