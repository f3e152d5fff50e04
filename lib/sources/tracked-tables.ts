import type { Db, Queryable } from "../db/client";
import { Invalid, NotFound } from "../errors";
import { tablesAccessCheck } from "./publication-check";
import { InsufficientPrivilege } from "./errors";
import { fixIdentitySchema, parseTableName, toTableRefs, updateTablesSchema, type TableRef } from "./input";
import { installNewTablesTrigger, newTablesState, removeNewTablesTrigger, type NewTablesState } from "./new-tables";
import { ensurePublication, setPublicationTables, toProvisionError } from "./provision";
import { getSource, setSourceTrackNewTables } from "./queries";
import { tableKey } from "./replica-identity";
import { quoteTable } from "./sql";
import { requireConnection, withStoredSource } from "./stored-source";
import { gatherTableAccess, tableSetup, type TableSetup } from "./table-access";
import { listSourceTables, unknownTables, type SourceTable } from "./tables";
import {
  addTrackedTables,
  listTrackedTables,
  setTrackedTables,
  trackedOriginalIdentities,
  type TrackedTableRow,
} from "./tracked-table-queries";

/**
 * A connected database's tables: which the source has and which are tracked, changing the
 * tracked set at the source and in the store, fixing a replica identity, and "track new tables
 * automatically".
 */

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
  db: Queryable,
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
export async function fixReplicaIdentity(
  db: Queryable,
  secret: string,
  id: string,
  input: unknown,
): Promise<SourceTable> {
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
export async function setTrackNewTables(
  db: Queryable,
  secret: string,
  id: string,
  enabled: boolean,
): Promise<NewTablesState> {
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
