/**
 * The connection steps as checks (reachable, TLS, authentication, database): all passed once connected, or the
 * ones a failed connection got through and the one it failed, with the host's own fix.
 */
import { check, LABELS, type Check, type CheckId } from "./check-result";
import type { SourceConnection } from "./connection";
import { AuthenticationFailed, DatabaseMissing, SourceError, SslFailed } from "./errors";
import { hostFix, type HostKind } from "./host-kind";
import type { SourceFacts } from "./source-facts";
import { quoteIdent } from "./sql";

/** The check a failure to connect fails, by its error; the checks before it passed. */
const CONNECT_STEPS: { id: CheckId; failedBy: (error: SourceError) => boolean }[] = [
  { id: "reachable", failedBy: (e) => e.code === "source_unreachable" },
  { id: "tls", failedBy: (e) => e instanceof SslFailed },
  { id: "authentication", failedBy: (e) => e instanceof AuthenticationFailed },
  { id: "database", failedBy: (e) => e instanceof DatabaseMissing },
];

function tlsMessage(conn: SourceConnection, encrypted: boolean): string {
  if (!encrypted) {
    return conn.sslMode === "disable"
      ? 'Not encrypted (SSL mode "disable"): data and password cross the network in clear.'
      : 'Not encrypted: the server does not offer SSL, so "prefer" fell back to an unencrypted connection.';
  }
  switch (conn.sslMode) {
    case "verify-full":
      return (
        `Encrypted; the certificate is signed by ${conn.sslRootCert ? "the CA certificate given" : "a trusted CA"} ` +
        `and issued for ${conn.host}.`
      );
    case "require":
    case "prefer":
      return `Encrypted, but "${conn.sslMode}" accepts any certificate: use "verify-full" to know it is your server.`;
    case "disable":
      return "Encrypted.";
  }
}

/** A failed connection as checks: the steps it got through, then the one that failed. */
export function connectionFailure(error: SourceError, conn: SourceConnection, kind: HostKind): Check[] {
  const at = CONNECT_STEPS.findIndex((step) => step.failedBy(error));
  const failedId = at >= 0 ? (CONNECT_STEPS[at]?.id ?? "reachable") : "reachable";
  const passed = CONNECT_STEPS.slice(0, Math.max(at, 0)).map(({ id }) =>
    check(
      id,
      true,
      id === "reachable"
        ? `${conn.host}:${conn.port} answered`
        : id === "tls"
          ? conn.sslMode === "disable"
            ? 'Not encrypted (SSL mode "disable").'
            : `SSL mode "${conn.sslMode}" accepted`
          : `${conn.username} signed in`,
    ),
  );
  let fix = error.fix;
  const ctx = { role: quoteIdent(conn.username), host: conn.host, port: conn.port };
  // Network and certificate trouble is where hosts differ most: their own fix, unless the error knows better
  // (a host name that does not resolve).
  // A host refused by this instance's settings (lib/sources/access.ts) keeps the fix naming the setting.
  const refused = error.code === "host_not_allowed";
  if (failedId === "reachable" && kind !== "self-managed" && !/resolved/.test(error.message) && !refused) {
    fix = hostFix(kind, "reachable", ctx);
  }
  if (failedId === "tls" && kind !== "self-managed" && !/not issued for the host/.test(error.message)) {
    fix = `${hostFix(kind, "tls", ctx)}\n${error.fix ?? ""}`.trim();
  }
  const failed: Check = { id: failedId, label: LABELS[failedId], ok: false, message: error.message };
  return [...passed, fix ? { ...failed, fix } : failed];
}

/** The connection steps, all passed. */
export function connectedChecks(conn: SourceConnection, facts: SourceFacts): Check[] {
  return [
    check("reachable", true, `${conn.host}:${conn.port} answered`),
    check("tls", true, tlsMessage(conn, facts.ssl)),
    check("authentication", true, `Signed in as ${facts.currentUser}`),
    check("database", true, `Database ${facts.database} exists`),
  ];
}
