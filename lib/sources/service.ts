import { randomUUID } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import type { Db } from "../db/client";
import { AppError, Conflict, Invalid, NotFound } from "../errors";
import { createLogger } from "../log";
import { checkSource, errorForCheck, evaluateChecks, gatherFacts, tablesAccessCheck, type CheckReport } from "./checks";
import { withSourceClient } from "./connection";
import { InsufficientPrivilege, SourceError } from "./errors";
import { findSameDatabase, identifySource, rememberIdentity } from "./identity";
import {
  connectionInputSchema,
  connectInputSchema,
  fixIdentitySchema,
  parseTableName,
  setEnabledSchema,
  tableListSchema,
  toTableRefs,
  updateDatabaseSchema,
  updateTablesSchema,
  type TableRef,
} from "./input";
import { installNewTablesTrigger, newTablesState, removeNewTablesTrigger, type NewTablesState } from "./new-tables";
import { columnRulesSchema, storedColumnRules, type ColumnRules } from "./column-rules";
import {
  deprovisionSource,
  ensurePublication,
  manualCleanupSql,
  provisionSource,
  replicationNamesFor,
  setPublicationTables,
  tableKey,
  toProvisionError,
} from "./provision";
import {
  addTrackedTables,
  createSource,
  deleteSource,
  getColumnRules,
  saveColumnRules,
  setSourceTrackNewTables,
  trackedOriginalIdentities,
  findSourceByIdentity,
  getSource,
  getSourceConnection,
  isUniqueViolation,
  listTrackedTables,
  setSourceEnabled,
  setTrackedTables,
  SOURCE_IDENTITY_INDEX,
  type ConnectedSource,
  type SourceSummary,
  type TrackedTableRow,
} from "./queries";
import { quoteIdent, quoteTable } from "./sql";
import { gatherTableAccess, tableSetup, type TableSetup } from "./table-access";
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

/** Runs `fn` connected to a stored source, filling in its identity if it was stored without one. */
async function withStoredSource<T>(
  db: Db,
  id: string,
  source: Awaited<ReturnType<typeof requireConnection>>,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  return withSourceClient(source.connection, async (client) => {
    if (!source.identified) await rememberIdentity(db, id, client, source.connection);
    return fn(client);
  });
}

function alreadyConnected(existing: ConnectedSource): Conflict {
  return new Conflict(
    `This database is already connected as "${existing.name}" ` +
      `(${existing.host}:${existing.port}/${existing.database}); connecting it twice would record every change twice.`,
  );
}

/** Runs the connect checks without creating anything (the form's live feedback). */
export async function checkConnection(input: unknown): Promise<CheckReport> {
  const parsed = connectionInputSchema.extend({ tables: tableListSchema.default([]) }).parse(input);
  return checkSource(parsed, toTableRefs(parsed.tables));
}

/**
 * Connects a database: validate, make sure it is not connected already (by what the server says
 * it is, not by the host name), check (failing with the first failed check's error), create
 * publication and slot at the source, then record it in the store; if the store insert fails the
 * source is cleaned up again.
 */
export async function connectDatabase(db: Db, secret: string, input: unknown): Promise<SourceSummary> {
  const parsed = connectInputSchema.parse(input);
  const tables = toTableRefs(parsed.tables);
  const id = randomUUID();
  const names = replicationNamesFor(id);
  return withSourceClient(parsed, async (client) => {
    const identity = await identifySource(client, parsed);
    const existing = identity ? await findSameDatabase(db, secret, identity, parsed) : null;
    if (existing) throw alreadyConnected(existing);

    const facts = await gatherFacts(client, tables);
    const failed = evaluateChecks(facts, tables).find((check) => !check.ok);
    if (failed) throw errorForCheck(failed);
    // Only a role that may neither read pg_control_system() nor replicate gets here without one,
    // and the replication check has refused that one already.
    if (!identity) {
      throw new InsufficientPrivilege(
        `${facts.currentUser} may not ask the server for its system identifier, which tells one database from another.`,
        `GRANT EXECUTE ON FUNCTION pg_control_system() TO ${quoteIdent(facts.currentUser)};`,
      );
    }

    const { relations, changed } = await provisionSource(client, names, tables);
    try {
      // Where Retrace's role may not create the trigger, the tables page shows the SQL for it.
      // Nor does any other failure of it undo the connection: the page shows what is missing.
      if (parsed.trackNewTables) {
        await installNewTablesTrigger(client, names).catch((error: unknown) => {
          log.warn({ err: error, sourceId: id }, "could not install the new-tables trigger");
          return false;
        });
      }
      return await createSource(
        db,
        { ...parsed, ...names, id, identity, tables, relations, originalIdentities: changed },
        secret,
      );
    } catch (error) {
      await deprovisionSource(client, names, { activeWaitMs: 0 }).catch((cleanupError: unknown) => {
        log.error(
          { err: cleanupError, slotName: names.slotName, host: parsed.host, database: parsed.database },
          "could not undo provisioning after the store insert failed",
        );
      });
      // Another request connected the same database meanwhile.
      const winner = isUniqueViolation(error, SOURCE_IDENTITY_INDEX) ? await findSourceByIdentity(db, identity) : null;
      throw winner ? alreadyConnected(winner) : error;
    }
  });
}

export async function getDatabase(db: Db, id: string): Promise<{ database: SourceSummary; tables: TrackedTableRow[] }> {
  const database = await getSource(db, sourceId(id));
  if (!database) throw new NotFound("Database");
  return { database, tables: await listTrackedTables(db, id) };
}

export type SourceTableWithTracking = SourceTable & {
  tracked: boolean;
  /** Whether the table is ready to track, or what it takes (lib/sources/table-access.ts). */
  setup: TableSetup;
};

export type SourceTablesAnswer = {
  tables: SourceTableWithTracking[];
  /** Tracked tables the source no longer has (dropped there): no longer tracked, shown so. */
  dropped: TrackedTableRow[];
  /** "Track new tables automatically", as the source has it now (lib/sources/new-tables.ts). */
  newTables: NewTablesState;
};

/**
 * The source's tables (read live from its catalog), each marked tracked or not. With "track new
 * tables automatically", tables the trigger added to the publication since join the tracked set.
 */
export async function sourceTables(db: Db, secret: string, id: string): Promise<SourceTablesAnswer> {
  const source = await requireConnection(db, secret, id);
  const summary = await getSource(db, id);
  const trackNew = summary?.trackNewTables ?? false;
  return withStoredSource(db, id, source, async (client) => {
    const tables = await listSourceTables(client);
    const refs = tables.map((t) => ({ schema: t.schema, table: t.name }));
    const access = await gatherTableAccess(client, refs, source.names.publicationName);
    const setup = new Map(access.tables.map((t) => [tableKey(t.table), tableSetup(access, t)]));
    let stored = await listTrackedTables(db, id);
    const storedKeys = new Set(stored.map(tableKey));
    if (trackNew) {
      const added = access.tables.filter((t) => t.published && !storedKeys.has(tableKey(t.table))).map((t) => t.table);
      if (added.length > 0) {
        await addTrackedTables(db, id, added);
        stored = await listTrackedTables(db, id);
      }
    }
    const tracked = new Set(stored.map(tableKey));
    const existing = new Set(refs.map(tableKey));
    return {
      tables: tables.map((t) => {
        const key = `${t.schema}\u0000${t.name}`;
        return { ...t, tracked: tracked.has(key), setup: setup.get(key) ?? "owner" };
      }),
      dropped: stored.filter((t) => !existing.has(tableKey(t))),
      newTables: await newTablesState(client, source.names, trackNew),
    };
  });
}

/**
 * Makes the tracked set exactly `tables`, at the source (publication, REPLICA IDENTITY FULL) and
 * in the store. A table Retrace's role may not publish itself must have been made ready by its
 * owner; otherwise nothing changes and the error carries the owner's SQL in `details.fix`.
 * Tables no longer tracked get back the replica identity Retrace changed. A tracked table that
 * was dropped at the source is no error: it is simply no longer tracked.
 */
export async function updateTrackedTables(
  db: Db,
  secret: string,
  id: string,
  input: unknown,
): Promise<TrackedTableRow[]> {
  const source = await requireConnection(db, secret, id);
  const requested = toTableRefs(updateTablesSchema.parse(input).tables);
  const publication = source.names.publicationName;
  const originals = await trackedOriginalIdentities(db, id);
  let tables: TableRef[] = requested;
  const { relations, changed } = await withStoredSource(db, id, source, async (client) => {
    const unknown = new Set(unknownTables(await listSourceTables(client), requested));
    // Dropped at the source since it was tracked: saving the list back as it was shown is fine.
    const unknownUntracked = [...unknown].filter((name) => {
      const ref = parseTableName(name);
      return !ref || !originals.has(tableKey(ref));
    });
    if (unknownUntracked.length > 0) {
      throw new Invalid(`Not found at the source: ${unknownUntracked.join(", ")}.`, { unknown: unknownUntracked });
    }
    tables = requested.filter((t) => !unknown.has(`${t.schema}.${t.table}`));
    await ensurePublication(client, publication);
    const access = tablesAccessCheck(await gatherTableAccess(client, tables, publication));
    if (!access.ok) throw new InsufficientPrivilege(access.message, access.fix);
    return setPublicationTables(client, publication, tables, originals);
  });
  return setTrackedTables(db, id, tables, relations, changed);
}

/**
 * Sets REPLICA IDENTITY FULL on one table (the one-click fix for an identity changed since it was
 * tracked, or not yet FULL). When Retrace's role may not, the error carries the owner's SQL.
 */
export async function fixReplicaIdentity(db: Db, secret: string, id: string, input: unknown): Promise<SourceTable> {
  const source = await requireConnection(db, secret, id);
  const ref = parseTableName(fixIdentitySchema.parse(input).table);
  if (!ref) throw new Invalid("table must be a table name of the form schema.table");
  return withStoredSource(db, id, source, async (client) => {
    const found = (await listSourceTables(client)).find((t) => t.schema === ref.schema && t.name === ref.table);
    if (!found) throw new NotFound(`Table ${ref.schema}.${ref.table}`);
    const sql = `ALTER TABLE ${quoteTable(ref)} REPLICA IDENTITY FULL;`;
    try {
      await client.query("set lock_timeout = '5s'");
      await client.query(sql);
    } catch (error) {
      const mapped = toProvisionError(error);
      if (mapped instanceof InsufficientPrivilege) {
        throw new InsufficientPrivilege(
          `Retrace's role does not own ${ref.schema}.${ref.table}: its owner runs the statement below.`,
          sql,
        );
      }
      throw mapped;
    }
    const after = (await listSourceTables(client)).find((t) => t.schema === ref.schema && t.name === ref.table);
    return after ?? found;
  });
}

/**
 * Turns "track new tables automatically" on or off: the event trigger at the source, then the
 * setting. Where Retrace's role may not create the trigger, the setting is kept and the state
 * carries the SQL a superuser runs.
 */
export async function setTrackNewTables(db: Db, secret: string, id: string, enabled: boolean): Promise<NewTablesState> {
  const source = await requireConnection(db, secret, id);
  return withStoredSource(db, id, source, async (client) => {
    try {
      if (enabled) await installNewTablesTrigger(client, source.names);
      else await removeNewTablesTrigger(client, source.names);
    } catch (error) {
      throw toProvisionError(error);
    }
    await setSourceTrackNewTables(db, id, enabled);
    return newTablesState(client, source.names, enabled);
  });
}

/** PATCH /api/databases/:id: pause / resume and "track new tables automatically". */
export async function updateDatabase(db: Db, secret: string, id: string, input: unknown): Promise<SourceSummary> {
  const { enabled, trackNewTables } = updateDatabaseSchema.parse(input);
  if (!(await getSource(db, sourceId(id)))) throw new NotFound("Database");
  if (trackNewTables !== undefined) await setTrackNewTables(db, secret, id, trackNewTables);
  if (enabled !== undefined) await setDatabaseEnabled(db, id, { enabled });
  const updated = await getSource(db, id);
  if (!updated) throw new NotFound("Database");
  return updated;
}

/** The source's column rules (lib/sources/column-rules.ts). */
export async function columnRules(db: Db, id: string): Promise<ColumnRules> {
  const rules = await getColumnRules(db, sourceId(id));
  if (rules === null) throw new NotFound("Database");
  return storedColumnRules(rules);
}

/** Replaces the column rules; the worker streams with them within a poll interval. */
export async function updateColumnRules(db: Db, id: string, input: unknown): Promise<ColumnRules> {
  const rules = columnRulesSchema.parse(input);
  if (!(await saveColumnRules(db, sourceId(id), rules))) throw new NotFound("Database");
  return rules;
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
