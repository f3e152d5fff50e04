import pg from "pg";
import type { ConnectionInput } from "./input";
import { AuthenticationFailed, DatabaseMissing, SourceError, SourceUnreachable, SslFailed } from "./errors";
import { quoteIdent } from "./sql";

/**
 * What it takes to open a connection to a source (the password in clear, in memory only). `sslRootCert`: PEM of
 * the CA(s) verify-full trusts (absent or null: the CAs Node trusts).
 */
export type SourceConnection = Omit<ConnectionInput, "sslRootCert"> & { sslRootCert?: string | null };

export const CONNECT_TIMEOUT_MS = 5_000;

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

/** node-postgres client options for a source. */
export function clientConfig(
  conn: SourceConnection,
  ssl: SslOption = sslFor(conn.sslMode, conn.sslRootCert),
  applicationName = "retrace",
): pg.ClientConfig {
  return {
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
  options: { applicationName?: string; onError?: (error: Error) => void; replication?: boolean } = {},
): Promise<{ client: pg.Client; ssl: SslOption }> {
  const onError = options.onError ?? (() => undefined);
  const config = (ssl: SslOption): pg.ClientConfig => {
    const base = clientConfig(conn, ssl, options.applicationName);
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
export async function connectSource(conn: SourceConnection): Promise<pg.Client> {
  try {
    return (await openSourceClient(conn)).client;
  } catch (error) {
    throw toSourceError(error, conn);
  }
}

/** Runs `fn` with a connected source client and always closes it. */
export async function withSourceClient<T>(conn: SourceConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectSource(conn);
  try {
    return await fn(client);
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
  return new SourceUnreachable(`Could not connect to ${where}: ${raw}`, reachFix(conn));
}

/** What to check when a source cannot be reached. */
export function reachFix(conn: Pick<SourceConnection, "host" | "port">): string {
  return (
    `Check that PostgreSQL is running on ${conn.host}:${conn.port}, that listen_addresses includes the interface ` +
    `Retrace connects to, and that no firewall or security group blocks port ${conn.port}.`
  );
}

const CONNECTION_TIMEOUT = /Connection terminated due to connection timeout/i;

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
  if (CONNECTION_TIMEOUT.test(raw)) {
    return new SourceUnreachable(
      `Could not reach ${where}: the connection timed out after ${CONNECT_TIMEOUT_MS / 1000} s.`,
      reach,
    );
  }
  return null;
}
