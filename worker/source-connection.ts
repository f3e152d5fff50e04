import pg from "pg";
import type { Source } from "../lib/db/schema";

type Ssl = pg.ClientConfig["ssl"];

export type SourceEndpoint = Pick<Source, "host" | "port" | "database" | "username" | "sslMode">;

const CONNECT_TIMEOUT_MS = 10_000;
const SSL_UNSUPPORTED = /does not support SSL/i;

function sslFor(mode: Source["sslMode"]): Ssl {
  switch (mode) {
    case "disable":
      return false;
    case "prefer":
    case "require":
      // libpq's `require`: encrypted, certificate not verified.
      return { rejectUnauthorized: false };
    case "verify-full":
      return { rejectUnauthorized: true };
  }
}

export function sourceClientConfig(source: SourceEndpoint, password: string, ssl: Ssl, applicationName: string): pg.ClientConfig {
  return {
    host: source.host,
    port: source.port,
    database: source.database,
    user: source.username,
    password,
    ssl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: applicationName,
  };
}

async function open(config: pg.ClientConfig, onError: (error: Error) => void): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on("error", onError);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/**
 * A normal (non-replication) connection to the source, for catalog look-ups. It also settles
 * the SSL choice for the replication connection: `prefer` is libpq's (SSL first, plain when the
 * server does not offer SSL).
 */
export async function connectCatalog(
  source: SourceEndpoint,
  password: string,
  onError: (error: Error) => void,
): Promise<{ client: pg.Client; ssl: Ssl }> {
  const ssl = sslFor(source.sslMode);
  try {
    return { client: await open(sourceClientConfig(source, password, ssl, "retrace-worker-catalog"), onError), ssl };
  } catch (error) {
    if (source.sslMode !== "prefer" || !(error instanceof Error) || !SSL_UNSUPPORTED.test(error.message)) throw error;
    return { client: await open(sourceClientConfig(source, password, false, "retrace-worker-catalog"), onError), ssl: false };
  }
}

/**
 * Primary key columns of a relation, in key order, from the source catalog ([] = none). The
 * relation message cannot tell: with REPLICA IDENTITY FULL it flags every column as key.
 */
export async function primaryKeyColumns(client: pg.ClientBase, relationOid: number): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    `select a.attname
       from pg_index i
       cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1::oid and i.indisprimary
      order by k.position`,
    // The library reads the OID as a signed 32-bit integer.
    [String(relationOid >>> 0)],
  );
  return rows.map((row) => row.attname);
}

/** The slot's confirmed position: acknowledging it again is always safe. */
export async function slotConfirmedLsn(client: pg.ClientBase, slotName: string): Promise<string> {
  const { rows } = await client.query<{ confirmed: string | null }>(
    "select confirmed_flush_lsn::text as confirmed from pg_replication_slots where slot_name = $1 and database = current_database()",
    [slotName],
  );
  const [slot] = rows;
  if (!slot) throw new Error(`Replication slot ${slotName} does not exist in this database`);
  return slot.confirmed ?? "0/0";
}
