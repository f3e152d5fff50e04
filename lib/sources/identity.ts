import type pg from "pg";
import type { Db, Queryable } from "../db/client";
import { createLogger } from "../log";
import { openSourceClient, withSourceClient, type SourceConnection } from "./connection";
import {
  findSourceByIdentity,
  listUnidentifiedSources,
  recordSourceIdentity,
  type ConnectedSource,
  type SourceIdentity,
} from "./identity-queries";
import { getSourceConnection } from "./queries";

/**
 * A source is one database of one PostgreSQL cluster, whatever host name reached it: the
 * cluster's system identifier and the database's OID. The OID rather than the name because it
 * is what the server itself binds a replication slot to and it survives a rename; a database
 * dropped and created again under the same name is a new database, with a new OID. A physical
 * standby shares its primary's system identifier and OIDs, and so counts as the same database:
 * it replays the same changes, and tracking both would record them twice.
 */

const log = createLogger("sources");

function pgCode(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * `pg_control_system()` answers any role on a stock server; where it was revoked, a
 * replication connection's IDENTIFY_SYSTEM gives the same number to a role with REPLICATION.
 * Null when neither is allowed.
 */
async function systemIdentifier(client: pg.Client, conn: SourceConnection): Promise<string | null> {
  try {
    const { rows } = await client.query<{ id: string }>(
      "select system_identifier::text as id from pg_control_system()",
    );
    if (rows[0]) return rows[0].id;
  } catch (error) {
    if (pgCode(error) !== "42501") throw error;
  }
  let replication: pg.Client | undefined;
  try {
    replication = (await openSourceClient(conn, { replication: true })).client;
    const { rows } = await replication.query<{ systemid: string }>("IDENTIFY_SYSTEM");
    return rows[0]?.systemid ?? null;
  } catch (error) {
    log.debug({ err: error }, "IDENTIFY_SYSTEM refused");
    return null;
  } finally {
    await replication?.end().catch(() => undefined);
  }
}

/**
 * Asks the server which cluster and database `client` is connected to; null when the role may
 * neither call pg_control_system() nor open a replication connection.
 */
export async function identifySource(client: pg.Client, conn: SourceConnection): Promise<SourceIdentity | null> {
  const { rows } = await client.query<{ oid: string }>(
    "select oid::text as oid from pg_database where datname = current_database()",
  );
  const systemId = await systemIdentifier(client, conn);
  if (!rows[0] || systemId === null) return null;
  return { systemIdentifier: systemId, databaseOid: Number(rows[0].oid) };
}

/** Identifies a source connected before identities were stored, and stores it; null when unreachable. */
async function identifyStored(db: Db, secret: string, id: string): Promise<SourceIdentity | null> {
  let identity: SourceIdentity | null = null;
  try {
    const stored = await getSourceConnection(db, id, secret);
    if (stored) {
      identity = await withSourceClient(stored.connection, (client) => identifySource(client, stored.connection));
    }
  } catch (error) {
    log.warn({ err: error, sourceId: id }, "could not reach a source connected before identities were stored");
  }
  if (!identity) return null;
  if (!(await recordSourceIdentity(db, id, identity))) {
    log.warn({ sourceId: id, ...identity }, "this database is connected twice since before identities were stored");
  }
  return identity;
}

const sameIdentity = (a: SourceIdentity, b: SourceIdentity) =>
  a.systemIdentifier === b.systemIdentifier && a.databaseOid === b.databaseOid;

/**
 * The source already connected to the database identified as `identity`, if any. Sources stored
 * without an identity (connected before Retrace kept one) are identified on the way, with their
 * own credentials; one that cannot be reached now is compared by its address text as before.
 */
export async function findSameDatabase(
  db: Db,
  secret: string,
  identity: SourceIdentity,
  address: { host: string; port: number; database: string },
): Promise<ConnectedSource | null> {
  const known = await findSourceByIdentity(db, identity);
  if (known) return known;
  const legacy = await listUnidentifiedSources(db);
  const matches = await Promise.all(
    legacy.map(async (source) => {
      const found = await identifyStored(db, secret, source.id);
      if (found) return sameIdentity(found, identity) ? source : null;
      const sameAddress =
        source.host.toLowerCase() === address.host.toLowerCase() &&
        source.port === address.port &&
        source.database === address.database;
      return sameAddress ? source : null;
    }),
  );
  return matches.find((match) => match !== null) ?? null;
}

/** Fills in the identity of a source stored without one, now that Retrace is connected to it. */
export async function rememberIdentity(
  db: Queryable,
  id: string,
  client: pg.Client,
  conn: SourceConnection,
): Promise<void> {
  try {
    const identity = await identifySource(client, conn);
    // In a savepoint: the caller's transaction (a tracked-tables change and its audit row) outlives a refusal here.
    if (identity && !(await db.transaction((tx) => recordSourceIdentity(tx, id, identity)))) {
      log.warn({ sourceId: id, ...identity }, "this database is connected twice since before identities were stored");
    }
  } catch (error) {
    log.warn({ err: error, sourceId: id }, "could not identify a source");
  }
}
