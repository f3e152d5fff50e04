import type pg from "pg";
import { AppError, Conflict, Invalid } from "../errors";
import { InsufficientPrivilege, NoFreeSlots, ProvisioningFailed, WalLevelNotLogical } from "./errors";
import type { TableRef } from "./input";
import { ensurePublicationOptions, publicationOptionsSql } from "./publication";
import { trackedRelationFacts, type RelationFacts } from "./relations";
import {
  byTrackedTable,
  fromKey,
  restoreIdentities,
  restoreIdentitySql,
  setIdentityFull,
  tableKey,
  type IdentityState,
} from "./replica-identity";
import { quoteIdent, quoteTable } from "./sql";
import type { OriginalIdentity } from "../db/schema/sources";

/**
 * Sets a source up for Retrace: the publication of the tracked tables (their replica identity
 * FULL) and the logical slot, and keeps the publication's tables in step with the tracked set.
 * Taking it apart again is deprovision.ts; replica identities are replica-identity.ts.
 */

/** Source-side names of one Retrace source; both derive from the source id. */
export type ReplicationNames = { slotName: string; publicationName: string };

export function replicationNamesFor(sourceId: string): ReplicationNames {
  const name = `retrace_${sourceId.replaceAll("-", "").toLowerCase()}`;
  return { slotName: name, publicationName: name };
}

/** ALTER TABLE waits for an ACCESS EXCLUSIVE lock; never queue behind a long query for long. */
const LOCK_TIMEOUT = "5s";

export type PublicationChange = {
  added: TableRef[];
  removed: TableRef[];
  relations: RelationFacts[];
  /** By tracked table ("schema\u0000table"): the identities set to FULL now, as they were before. */
  changed: Map<string, OriginalIdentity[]>;
};

function tableList(tables: readonly TableRef[]): string {
  return tables.map(quoteTable).join(", ");
}

async function inTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query("begin");
  try {
    await client.query(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
    const result = await fn();
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

async function createPublication(client: pg.Client, publicationName: string, tables: readonly TableRef[]) {
  const forTables = tables.length > 0 ? ` for table ${tableList(tables)}` : "";
  const options = await publicationOptionsSql(client);
  await client.query(`create publication ${quoteIdent(publicationName)}${forTables}${options}`);
}

/**
 * Creates the publication (with REPLICA IDENTITY FULL on its tables) and then the logical slot.
 * `identityChanges`: what each table Retrace set to FULL had before, for removal to restore.
 * Publication and identities are one transaction; the slot must come last, outside any
 * transaction that wrote. When a step fails everything done so far is undone, so nothing is
 * left half-created, and a specific error is thrown. Returns what the catalog says of the tables
 * and their partitions, for the store to remember (lib/sources/remembered-relations.ts).
 */
export async function provisionSource(
  client: pg.Client,
  names: ReplicationNames,
  tables: readonly TableRef[],
): Promise<{ relations: RelationFacts[]; changed: Map<string, OriginalIdentity[]> }> {
  let previous: IdentityState[];
  let relations: RelationFacts[];
  try {
    [previous, relations] = await inTransaction(client, async () => {
      await createPublication(client, names.publicationName, tables);
      return [await setIdentityFull(client, tables), await trackedRelationFacts(client, tables)] as const;
    });
  } catch (error) {
    throw toProvisionError(error);
  }
  try {
    await client.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [names.slotName]);
  } catch (error) {
    await inTransaction(client, async () => {
      await client.query(`drop publication if exists ${quoteIdent(names.publicationName)}`);
      for (const state of previous) await client.query(restoreIdentitySql(state));
    }).catch(() => undefined);
    throw toProvisionError(error);
  }
  return { relations, changed: byTrackedTable(previous) };
}

/** The tables a publication holds, as it was given them (roots, not partitions). */
export async function publicationTables(client: pg.Client, publicationName: string): Promise<TableRef[] | null> {
  const exists = await client.query("select 1 from pg_publication where pubname = $1", [publicationName]);
  if (exists.rowCount === 0) return null;
  const { rows } = await client.query<{ schema: string; table: string }>(
    `select n.nspname::text as schema, c.relname::text as table
       from pg_publication p
       join pg_publication_rel pr on pr.prpubid = p.oid
       join pg_class c on c.oid = pr.prrelid
       join pg_namespace n on n.oid = c.relnamespace
      where p.pubname = $1
      order by 1, 2`,
    [publicationName],
  );
  return rows;
}

/**
 * Creates the publication, empty, when it is missing (dropped by hand): Retrace's role must own
 * it before owners can be told to add their tables to it.
 */
export async function ensurePublication(client: pg.Client, publicationName: string): Promise<void> {
  try {
    if ((await publicationTables(client, publicationName)) === null) {
      await createPublication(client, publicationName, []);
    }
  } catch (error) {
    throw toProvisionError(error);
  }
}

/**
 * Makes the publication hold exactly `tables`, each with REPLICA IDENTITY FULL: adds the new
 * ones, drops the removed ones, and sets the identity where it is not FULL. Tables their owner
 * made ready (published, FULL) need no statement here; the caller checks beforehand that every
 * statement left is one Retrace's role may run (publication-check.ts, tablesAccessCheck). A publication
 * dropped by hand is recreated, one made by an older Retrace gets today's options
 * (publication.ts). `relations`: what the catalog says of the tables and their
 * partitions, for the store to remember.
 */
export async function setPublicationTables(
  client: pg.Client,
  publicationName: string,
  tables: readonly TableRef[],
  /** What the store remembers Retrace changed, of each table it tracks now (restored when untracked). */
  originals: ReadonlyMap<string, readonly OriginalIdentity[]> = new Map(),
): Promise<PublicationChange> {
  const key = tableKey;
  try {
    return await inTransaction(client, async () => {
      const current = await publicationTables(client, publicationName);
      if (current === null) {
        await createPublication(client, publicationName, tables);
        const changed = await setIdentityFull(client, tables);
        return {
          added: [...tables],
          removed: [],
          relations: await trackedRelationFacts(client, tables),
          changed: byTrackedTable(changed),
        };
      }
      // Before any table is added: on PostgreSQL 18 a table with a stored generated column refuses
      // UPDATE and DELETE while it is in a publication that does not publish them.
      await ensurePublicationOptions(client, publicationName);
      const wanted = new Set(tables.map(key));
      const existing = new Set(current.map(key));
      const added = tables.filter((t) => !existing.has(key(t)));
      const removed = current.filter((t) => !wanted.has(key(t)));
      const publication = quoteIdent(publicationName);
      if (added.length > 0) await client.query(`alter publication ${publication} add table ${tableList(added)}`);
      const changed = await setIdentityFull(client, tables);
      if (removed.length > 0) await client.query(`alter publication ${publication} drop table ${tableList(removed)}`);
      // Untracked tables get back the replica identity Retrace changed; the store may know tables
      // the publication no longer has (dropped from it by hand), so both lists are looked at.
      const untracked = [...removed, ...[...originals.keys()].flatMap((k) => (wanted.has(k) ? [] : [fromKey(k)]))];
      await restoreIdentities(
        client,
        [...new Set(untracked.map(key))].flatMap((k) => originals.get(k) ?? []),
      );
      return {
        added,
        removed,
        relations: await trackedRelationFacts(client, tables),
        changed: byTrackedTable(changed),
      };
    });
  } catch (error) {
    throw toProvisionError(error);
  }
}

/** Maps a failure while (de)provisioning to a specific domain error. */
export function toProvisionError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case "42501":
      // "must be owner of table": the checks before provisioning give the owner's SQL; a table
      // whose owner changed meanwhile lands here, and choosing the tables again gives it.
      return new InsufficientPrivilege(
        `The source refused: ${message}.` +
          (/owner/.test(message) ? " Save the tables again for the SQL the table's owner runs." : ""),
        /replication/i.test(message) ? "ALTER ROLE <retrace_user> WITH REPLICATION;" : undefined,
      );
    case "53400":
      return new NoFreeSlots(
        `The source has no free replication slot: ${message}.`,
        "ALTER SYSTEM SET max_replication_slots = <more>;\n-- then restart PostgreSQL",
      );
    case "55000":
      return /wal_level/.test(message)
        ? new WalLevelNotLogical(
            `Logical replication is off at the source: ${message}.`,
            "ALTER SYSTEM SET wal_level = logical;\n-- then restart PostgreSQL",
          )
        : new ProvisioningFailed(`Could not set up replication: ${message}.`);
    case "42P01":
      return new Invalid(`A chosen table does not exist at the source: ${message}.`);
    case "42710":
      return new Conflict(`Already exists at the source: ${message}.`);
    case "55P03":
      return new ProvisioningFailed(
        `A chosen table is locked by another session (waited ${LOCK_TIMEOUT}); try again when it is quieter.`,
      );
  }
  return new ProvisioningFailed(`Could not set up replication at the source: ${message}`);
}
