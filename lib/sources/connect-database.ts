import { randomUUID } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { recordAudit, type AuditActor } from "../audit/record";
import type { Db } from "../db/client";
import { AppError, Conflict } from "../errors";
import { createLogger } from "../log";
import { errorForCheck, type Check, type CheckReport } from "./check-result";
import { checkSource } from "./checks";
import { connectedChecks, connectionFailure } from "./connection-checks";
import { evaluateChecks, hostKindOf } from "./evaluate-checks";
import { gatherFacts } from "./source-facts";
import { connectSource, queryFailure } from "./connection";
import { deprovisionSource } from "./deprovision";
import { InsufficientPrivilege, SourceError } from "./errors";
import { resolveHostKind } from "./host-kind";
import { findSameDatabase, identifySource } from "./identity";
import {
  findSourceByIdentity,
  isUniqueViolation,
  SOURCE_IDENTITY_INDEX,
  type ConnectedSource,
} from "./identity-queries";
import { checkInputSchema, connectInputSchema, tableListSchema, toTableRefs } from "./input";
import { installNewTablesTrigger } from "./new-tables";
import { provisionSource, replicationNamesFor } from "./provision";
import { replicationNamesInUse, type SourceSummary } from "./queries";
import { createSource } from "./source-lifecycle";
import { quoteIdent } from "./sql";

/**
 * Checking and connecting a database: the connect checks, then publication and slot at the
 * source and the source's rows in the store, so that a failure in either leaves nothing half-done.
 */

const log = createLogger("sources");

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
 * publication and slot at the source, then record it in the store, with the audit row of `actor`
 * in the same transaction; if that transaction fails the source is cleaned up again.
 */
export async function connectDatabase(
  db: Db,
  secret: string,
  input: unknown,
  options: { actor?: AuditActor } = {},
): Promise<SourceSummary> {
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
      return await db.transaction(async (tx) => {
        const created = await createSource(
          tx,
          { ...parsed, ...names, id, identity, tables, relations, originalIdentities: changed },
          secret,
        );
        if (options.actor) {
          await recordAudit(
            tx,
            options.actor,
            "database.connect",
            { type: "database", id: created.id, label: created.name },
            { host: created.host, port: created.port, database: created.database, environment: created.environment },
          );
        }
        return created;
      });
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
