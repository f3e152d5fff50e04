/**
 * Connect checks: connects to a source and runs every check, the report the connect form shows and POST
 * /api/databases decides on. What a check is: check-result.ts; the checks: connection-checks.ts,
 * evaluate-checks.ts.
 */
import type pg from "pg";
import type { CheckReport } from "./check-result";
import { connectedChecks, connectionFailure } from "./connection-checks";
import { connectSource, queryFailure, type SourceConnection } from "./connection";
import { SourceError } from "./errors";
import { evaluateChecks, hostKindOf } from "./evaluate-checks";
import { HOST_KIND_LABELS, resolveHostKind, type HostKind } from "./host-kind";
import type { TableRef } from "./input";
import { roleSql } from "./role-sql";
import { gatherFacts } from "./source-facts";

function kindReport(kind: HostKind, chosen: HostKind | null | undefined): CheckReport["hostKind"] {
  return { kind, label: HOST_KIND_LABELS[kind], detected: !chosen };
}

/**
 * Connects and runs every check; a failed connection is reported as the connection step that failed (reachable,
 * TLS, authentication, database), after the ones it passed.
 */
export async function checkSource(
  conn: SourceConnection,
  tables: readonly TableRef[] = [],
  options: {
    hostKind?: HostKind | null;
    readTables?: readonly TableRef[];
    /** Slot and publication names of the databases connected in this Retrace, with their display names. */
    ours?: Map<string, string>;
  } = {},
): Promise<CheckReport> {
  const read = options.readTables ?? [];
  let client: pg.Client;
  try {
    client = await connectSource(conn);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    const kind = resolveHostKind(options.hostKind, conn.host);
    return {
      ok: false,
      checks: connectionFailure(error, conn, kind),
      hostKind: kindReport(kind, options.hostKind),
      roleSql: roleSql(conn.database, { hostKind: kind, tables: read }),
    };
  }
  try {
    const facts = { ...(await gatherFacts(client, tables, null, read)), ours: options.ours };
    const kind = hostKindOf(facts, conn.host, options.hostKind);
    const checks = [...connectedChecks(conn, facts), ...evaluateChecks(facts, tables, kind, read)];
    return {
      ok: checks.every((c) => c.ok),
      checks,
      hostKind: kindReport(kind, options.hostKind),
      roleSql: roleSql(conn.database, {
        schemas: facts.schemas,
        owners: facts.schemaOwners,
        hostKind: kind,
        tables: read,
      }),
    };
  } catch (error) {
    // Connected, and then the server went silent or away: reported as the connection step it failed.
    const failure = queryFailure(error, conn);
    if (!failure) throw error;
    const kind = resolveHostKind(options.hostKind, conn.host);
    return {
      ok: false,
      checks: connectionFailure(failure, conn, kind),
      hostKind: kindReport(kind, options.hostKind),
      roleSql: roleSql(conn.database, { hostKind: kind, tables: read }),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
