import { randomUUID } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import type { Db } from "../db/client";
import { AppError, Conflict, Invalid, NotFound } from "../errors";
import { createLogger } from "../log";
import {
  checkSource,
  connectedChecks,
  connectionFailure,
  errorForCheck,
  evaluateChecks,
  gatherFacts,
  hostKindOf,
  tablesAccessCheck,
  type Check,
  type CheckReport,
} from "./checks";
import { connectSource, queryFailure, withSourceClient } from "./connection";
import { updateDatabaseSettings, updateDatabaseSchema } from "./edit";
import { resolveHostKind } from "./host-kind";
import { InsufficientPrivilege, SourceError } from "./errors";
import { findSameDatabase, identifySource, rememberIdentity } from "./identity";
import {
  checkInputSchema,
  connectInputSchema,
  fixIdentitySchema,
  parseTableName,
  setEnabledSchema,
  tableListSchema,
  toTableRefs,
  updateTablesSchema,
  type TableRef,
} from "./input";
import { installNewTablesTrigger, newTablesState, removeNewTablesTrigger, type NewTablesState } from "./new-tables";
import { columnRulesSchema, storedColumnRules, type ColumnRules } from "./column-rules";
import { deprovisionSource } from "./deprovision";
import {
  ensurePublication,
  provisionSource,
  replicationNamesFor,
  setPublicationTables,
  toProvisionError,
} from "./provision";
import { tableKey } from "./replica-identity";
import {
  findSourceByIdentity,
  isUniqueViolation,
  SOURCE_IDENTITY_INDEX,
  type ConnectedSource,
} from "./identity-queries";
import {
  getColumnRules,
  saveColumnRules,
  setSourceTrackNewTables,
  getSource,
  getSourceConnection,
  listSources,
  replicationNamesInUse,
  setSourceEnabled,
  type SourceSummary,
} from "./queries";
import { createSource } from "./source-lifecycle";
import {
  addTrackedTables,
  listTrackedTables,
  setTrackedTables,
  trackedOriginalIdentities,
  type TrackedTableRow,
} from "./tracked-table-queries";
import { forgetSlotReading, withSlotReadings, type WithSlot } from "./slot-readings";
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
  if (!source) {
    if ((await getSource(db, id))?.removedAt) throw removedConflict();
    throw new NotFound("Database");
  }
  return source;
}

function removedConflict(): Conflict {
  return new Conflict("This database was removed (its captured changes are kept); Retrace no longer reaches it.");
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

/**
 * Runs the connect checks without creating anything (the form's live feedback, and the read-only role path's
 * Verify: `readTables` are the tables its role SQL was written for, checked for SELECT).
 */
export async function checkConnection(db: Db, input: unknown): Promise<CheckReport> {
  // The connect form checks with everything it will connect with: its name and environment are accepted, unused.
  const parsed = checkInputSchema
    .extend({
      readTables: tableListSchema.default([]),
      name: z.string().optional(),
      environment: z.string().optional(),
    })
    .parse(input);
  return checkSource(parsed, toTableRefs(parsed.tables), {
    hostKind: parsed.hostKind,
    readTables: toTableRefs(parsed.readTables),
    ours: await replicationNamesInUse(db),
  });
}

/** The error of the first failed check, carrying every check (passed and failed) so all failures show at once. */
function checksFailed(checks: Check[]): AppError {
  const failed = checks.filter((c) => !c.ok);
  const first = errorForCheck(failed[0] as Check);
  const details = { ...(first.details as object | undefined), checks };
  const message =
    failed.length > 1 ? `${first.message} (${failed.length - 1} more failed: see the checks.)` : first.message;
  return new AppError(first.code, message, details);
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
  let client: pg.Client;
  try {
    client = await connectSource(parsed);
  } catch (error) {
    // The same checks Check connection reports, with the connection step that failed.
    if (!(error instanceof SourceError)) throw error;
    const failed = checksFailed(connectionFailure(error, parsed, resolveHostKind(parsed.hostKind, parsed.host)));
    // A host this instance does not connect to (lib/sources/access.ts) keeps its own code.
    throw error.code === "host_not_allowed" ? new AppError(error.code, failed.message, failed.details) : failed;
  }
  try {
    const identity = await identifySource(client, parsed);
    const existing = identity ? await findSameDatabase(db, secret, identity, parsed) : null;
    if (existing) throw alreadyConnected(existing);

    const facts = { ...(await gatherFacts(client, tables)), ours: await replicationNamesInUse(db) };
    const kind = hostKindOf(facts, parsed.host, parsed.hostKind);
    const checks = [...connectedChecks(parsed, facts), ...evaluateChecks(facts, tables, kind)];
    if (checks.some((check) => !check.ok)) throw checksFailed(checks);
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
  } catch (error) {
    // Connected, and then the server went silent or away: the connection step failed, as Check connection says.
    const failure = queryFailure(error, parsed);
    if (!failure) throw error;
    throw checksFailed(connectionFailure(failure, parsed, resolveHostKind(parsed.hostKind, parsed.host)));
  } finally {
    await client.end().catch(() => undefined);
  }
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
  const requested = toTableRefs(updateTablesSchema.parse(input).tables);
  const source = await requireConnection(db, secret, id);
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
  const ref = parseTableName(fixIdentitySchema.parse(input).table);
  if (!ref) throw new Invalid("table must be a table name of the form schema.table");
  const source = await requireConnection(db, secret, id);
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

/**
 * PATCH /api/databases/:id: settings and credentials (verified at the source before they are saved), "track new
 * tables automatically", pause / resume. The whole body is validated before anything is applied.
 */
export async function updateDatabase(
  db: Db,
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
export async function updateColumnRules(db: Db, id: string, input: unknown): Promise<ColumnRules> {
  const rules = columnRulesSchema.parse(input);
  if (!(await saveColumnRules(db, sourceId(id), rules))) throw new NotFound("Database");
  return rules;
}

/** Pause (enabled: false) or resume (enabled: true); the slot keeps its place meanwhile. */
export async function setDatabaseEnabled(db: Db, id: string, input: unknown): Promise<SourceSummary> {
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
): Promise<{ database: WithSlot<SourceSummary>; tables: TrackedTableRow[] }> {
  const { database, tables } = await getDatabase(db, id);
  const [withSlot] = await withSlotReadings(db, secret, [database]);
  return { database: withSlot ?? { ...database, slot: null }, tables };
}

export { removeDatabase } from "./remove";
