import pg from "pg";
import { env } from "../env";
import { assertHostAllowed, checkedStream, sourceAccess } from "./access";
import type { ConnectionInput } from "./input";
import { AuthenticationFailed, DatabaseMissing, SourceError, SourceUnreachable, SslFailed } from "./errors";
import { quoteIdent } from "./sql";

/**
 * What it takes to open a connection to a source (the password in clear, in memory only). `sslRootCert`: PEM of
 * the CA(s) verify-full trusts (absent or null: the CAs Node trusts).
 */
export type SourceConnection = Omit<ConnectionInput, "sslRootCert"> & { sslRootCert?: string | null };

export const CONNECT_TIMEOUT_MS = 5_000;

/** How long any one query to a source may take (RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS): a silent server is let go. */
export function sourceQueryTimeoutMs(): number {
  return Math.round(env.sources.RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS * 1000);
}

type SslOption = pg.ClientConfig["ssl"];

export function sslFor(mode: SourceConnection["sslMode"], rootCert?: string | null): SslOption {
  switch (mode) {
    case "disable":
      return false;
    case "prefer":
    case "require":
      // libpq's `require`: encrypted, certificate not verified.
      return { rejectUnauthorized: false };
    case "verify-full":
      // Chain to the pasted CA (or Node's trusted roots) and the host name checked against the certificate.
      return rootCert ? { rejectUnauthorized: true, ca: rootCert } : { rejectUnauthorized: true };
  }
}

/**
 * node-postgres client options for a source. Its socket resolves the host itself and refuses the addresses this
 * instance does not connect to (lib/sources/access.ts), so every connection is checked where it is made.
 */
export function clientConfig(
  conn: SourceConnection,
  ssl: SslOption = sslFor(conn.sslMode, conn.sslRootCert),
  applicationName = "retrace",
): pg.ClientConfig {
  return {
    stream: checkedStream(conn.host, sourceAccess()),
    host: conn.host,
    port: conn.port,
    database: conn.database,
    user: conn.username,
    password: conn.password,
    ssl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: applicationName,
    keepAlive: true,
  };
}

const SSL_UNSUPPORTED = /does not support SSL/i;

async function open(config: pg.ClientConfig, onError: (error: Error) => void): Promise<pg.Client> {
  const client = new pg.Client(config);
  // A connection that dies while idle must not crash the process; the next query fails instead.
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
 * Opens a connection to a source and reports the SSL setting that worked, so a second
 * connection (the worker's replication stream) can reuse it. `prefer` behaves like libpq's:
 * SSL first, plain when the server does not offer SSL. Errors are the driver's own.
 */
export async function openSourceClient(
  conn: SourceConnection,
  options: {
    applicationName?: string;
    onError?: (error: Error) => void;
    replication?: boolean;
    /** Instead of RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS, for a client whose queries may wait longer by design. */
    queryTimeoutMs?: number;
  } = {},
): Promise<{ client: pg.Client; ssl: SslOption }> {
  const onError = options.onError ?? (() => undefined);
  assertHostAllowed(conn.host);
  const config = (ssl: SslOption): pg.ClientConfig => {
    // Every query has a deadline: a server that answers the start-up and then goes silent is let go.
    const base = {
      ...clientConfig(conn, ssl, options.applicationName),
      query_timeout: options.queryTimeoutMs ?? sourceQueryTimeoutMs(),
    };
    // A walsender connection bound to the database (replication commands such as IDENTIFY_SYSTEM);
    // node-postgres supports the option but its types do not list it.
    return options.replication ? ({ ...base, replication: "database" } as pg.ClientConfig) : base;
  };
  const ssl = sslFor(conn.sslMode, conn.sslRootCert);
  try {
    return { client: await open(config(ssl), onError), ssl };
  } catch (error) {
    if (conn.sslMode !== "prefer" || !(error instanceof Error) || !SSL_UNSUPPORTED.test(error.message)) throw error;
    return { client: await open(config(false), onError), ssl: false };
  }
}

/** Opens a connection to a source, mapping failures to specific, password-free errors. */
export async function connectSource(
  conn: SourceConnection,
  options: { queryTimeoutMs?: number } = {},
): Promise<pg.Client> {
  try {
    return (await openSourceClient(conn, options)).client;
  } catch (error) {
    throw toSourceError(error, conn);
  }
}

/** Runs `fn` with a connected source client and always closes it. */
export async function withSourceClient<T>(
  conn: SourceConnection,
  fn: (client: pg.Client) => Promise<T>,
  options: { queryTimeoutMs?: number } = {},
): Promise<T> {
  const client = await connectSource(conn, options);
  try {
    return await fn(client);
  } catch (error) {
    throw queryFailure(error, conn) ?? error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Node's happy-eyeballs connect (localhost -> ::1 and 127.0.0.1) fails with an AggregateError.
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errorCode(inner[0]) : undefined;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  if (error instanceof AggregateError) return error.errors.map(errorMessage).join("; ");
  return String(error);
}

/** Removes the password from a message, however it got there (defence in depth). */
export function scrubPassword(message: string, password: string): string {
  return password.length >= 4 ? message.replaceAll(password, "[redacted]") : message;
}

const CERT_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** verify-full refused the server's certificate: why, in words, and what to do about it. */
function certificateError(code: string, conn: SourceConnection): SslFailed {
  const where = `${conn.host}:${conn.port}`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new SslFailed(
      `The SSL certificate of ${where} is not issued for the host name "${conn.host}" (${code}).`,
      "Connect with a host name the server's certificate names (its subject alternative names), " +
        'not an IP address or an alias. Or choose SSL mode "require": encrypted, but any certificate is accepted.',
    );
  }
  if (code === "CERT_HAS_EXPIRED") {
    return new SslFailed(
      `The SSL certificate of ${where} has expired (${code}).`,
      "Renew the server's certificate (ssl_cert_file) and reload PostgreSQL.",
    );
  }
  return new SslFailed(
    `The SSL certificate of ${where} could not be verified: it is not signed by ` +
      (conn.sslRootCert ? "the CA certificate given" : "a CA Retrace trusts") +
      ` (${code}).`,
    (conn.sslRootCert ? "The CA certificate given did not sign the server's certificate. " : "") +
      "Paste the certificate of the CA that signed the server's certificate as the CA certificate " +
      '(SSL mode "verify-full"), or choose SSL mode "require": encrypted, but any certificate is accepted.',
  );
}

/** Turns a connection failure into a domain error a user can act on. */
export function toSourceError(error: unknown, conn: SourceConnection): SourceError {
  if (error instanceof SourceError) return error;
  // Closed before the start-up ended, without a word: a PostgreSQL server says why it refuses.
  if (CONNECTION_LOST.test(errorMessage(error))) return notPostgres(conn);
  const known = knownSourceError(error, conn);
  if (known) return known;
  const where = `${conn.host}:${conn.port}`;
  const raw = scrubPassword(errorMessage(error), conn.password);
  if (/timeout/i.test(raw)) {
    return new SourceUnreachable(
      `Could not reach ${where}: the connection timed out after ${CONNECT_TIMEOUT_MS / 1000} s.`,
      reachFix(conn),
    );
  }
  // A server's own error (it has an SQLSTATE) is PostgreSQL's and says what is wrong; anything else came from the
  // driver or the network, and may carry what a service that is not PostgreSQL sent back: not shown.
  if (sqlState(error)) return new SourceUnreachable(`Could not connect to ${where}: ${raw}`, reachFix(conn));
  return notPostgres(conn);
}

/** An SQLSTATE, as only a PostgreSQL server's ErrorResponse carries one. */
function sqlState(error: unknown): string | undefined {
  const code = errorCode(error);
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function notPostgres(conn: SourceConnection): SourceUnreachable {
  const where = `${conn.host}:${conn.port}`;
  return new SourceUnreachable(
    `${where} is not a PostgreSQL server: it did not answer as one.`,
    "Check the host and the port (PostgreSQL listens on 5432 unless it was set up otherwise).",
  );
}

/**
 * The failures of a query on a connected source that are about the connection rather than the query: the server
 * went silent past the deadline, or the connection was lost. Null for anything else (the query's own error).
 */
export function queryFailure(error: unknown, conn: SourceConnection): SourceError | null {
  if (error instanceof SourceError || sqlState(error)) return null;
  const message = errorMessage(error);
  const where = `${conn.host}:${conn.port}`;
  if (QUERY_TIMEOUT.test(message)) {
    return new SourceUnreachable(
      `${where} did not answer within ${sourceQueryTimeoutMs() / 1000} s.`,
      "Check that the server is not overloaded or blocked (a lock, a full disk), and that this is a PostgreSQL " +
        "server. The limit is RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS.",
    );
  }
  if (CONNECTION_LOST.test(message))
    return new SourceUnreachable(`The connection to ${where} was lost.`, reachFix(conn));
  return null;
}

/** What to check when a source cannot be reached. */
export function reachFix(conn: Pick<SourceConnection, "host" | "port">): string {
  return (
    `Check that PostgreSQL is running on ${conn.host}:${conn.port}, that listen_addresses includes the interface ` +
    `Retrace connects to, and that no firewall or security group blocks port ${conn.port}.`
  );
}

const CONNECTION_TIMEOUT = /Connection terminated due to connection timeout/i;
const QUERY_TIMEOUT = /^Query read timeout$/;
const CONNECTION_LOST = /^Connection terminated unexpectedly$/;
// node-postgres's own words for an answer to its SSLRequest that is neither yes nor no.
const SSL_ANSWER_GARBLED = /^There was an error establishing an SSL connection$/;

/**
 * The failures of opening a connection that say exactly what is wrong (network, authentication, database name,
 * TLS, a full or starting server), as the connect form shows them; null for any other error. The worker records
 * the same ones when a source it streams fails (lib/sources/failure.ts).
 */
export function knownSourceError(error: unknown, conn: SourceConnection): SourceError | null {
  const where = `${conn.host}:${conn.port}`;
  const user = conn.username;
  const code = errorCode(error);
  const raw = scrubPassword(errorMessage(error), conn.password);
  const reach = reachFix(conn);

  switch (code) {
    case "ECONNREFUSED":
      return new SourceUnreachable(`Could not reach ${where}: connection refused.`, reach);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new SourceUnreachable(
        `Could not reach ${where}: the host name "${conn.host}" could not be resolved.`,
        "Check the spelling of the host.",
      );
    case "ETIMEDOUT":
      return new SourceUnreachable(`Could not reach ${where}: the connection timed out.`, reach);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new SourceUnreachable(`Could not reach ${where}: no route to the host.`, reach);
    case "ECONNRESET":
      return new SourceUnreachable(`Could not reach ${where}: the connection was reset by the server.`, reach);
    case "28P01":
      return new AuthenticationFailed(
        `Authentication failed for user "${user}" on ${where}: the password was rejected.`,
        "Check the username and password.",
      );
    case "28000":
      return new AuthenticationFailed(
        `Authentication failed for user "${user}" on ${where}: ${raw}`,
        /pg_hba/.test(raw) && /no encryption/.test(raw) && conn.sslMode === "disable"
          ? 'The server only accepts encrypted connections from here: choose SSL mode "verify-full" ' +
              '(or "require", which accepts any certificate).'
          : /pg_hba/.test(raw)
            ? "Allow the connection in pg_hba.conf, for example:\n" +
              `host  ${conn.database}  ${user}  0.0.0.0/0  scram-sha-256\n` +
              "then: SELECT pg_reload_conf();"
            : undefined,
      );
    case "3D000":
      return new DatabaseMissing(
        `Database "${conn.database}" does not exist on ${where}.`,
        `Check the database name, or create it: CREATE DATABASE ${quoteIdent(conn.database)};`,
      );
    case "53300":
      return new SourceUnreachable(
        `Could not connect to ${where}: the server has no free connection slots.`,
        "Raise max_connections or close idle connections.",
      );
    case "57P03":
      return new SourceUnreachable(
        `Could not connect to ${where}: the server is starting up or shutting down.`,
        "Try again in a moment.",
      );
  }
  if (code && CERT_CODES.has(code)) return certificateError(code, conn);
  if (SSL_UNSUPPORTED.test(raw)) {
    return new SslFailed(
      `${where} does not accept SSL connections, but SSL mode "${conn.sslMode}" requires it.`,
      'Choose SSL mode "prefer" or "disable", or enable ssl on the server.',
    );
  }
  // What a service that is not PostgreSQL gets from the driver: its SSLRequest answered with something else, an
  // error message without an SQLSTATE, or the connection closed before the start-up ended.
  if (SSL_ANSWER_GARBLED.test(raw) || (error instanceof pg.DatabaseError && !sqlState(error))) return notPostgres(conn);
  const timedOut = queryFailure(error, conn);
  if (timedOut) return timedOut;
  if (CONNECTION_TIMEOUT.test(raw)) {
    return new SourceUnreachable(
      `Could not reach ${where}: the connection timed out after ${CONNECT_TIMEOUT_MS / 1000} s.`,
      reach,
    );
  }
  return null;
}
