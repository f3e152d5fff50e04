import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { encryptSecret } from "../crypto/secrets";
import type { Queryable } from "../db/client";
import { sources } from "../db/schema";
import { Conflict, NotFound } from "../errors";
import { errorForCheck, type CheckId } from "./check-result";
import { evaluateChecks } from "./evaluate-checks";
import { gatherFacts } from "./source-facts";
import { withSourceClient, type SourceConnection } from "./connection";
import { InsufficientPrivilege } from "./errors";
import { identifySource } from "./identity";
import { connectionInputSchema, SSL_MODES } from "./input";
import { getSource, getSourceConnection, type SourceSummary } from "./queries";
import { forgetSlotReading } from "./slot-readings";
import { quoteIdent } from "./sql";

/**
 * Editing a connected database's credentials and settings (PATCH /api/databases/:id). New connection details are
 * tried before anything is saved: they must reach the same database (by what its server says it is, so a typo
 * cannot point the trail at another one) and pass the checks streaming needs. The worker notices the change (it
 * compares each source's connection settings at every poll) and starts a new session with them.
 */

const connection = connectionInputSchema.shape;

/** The settings PATCH takes; each is optional, and a password left out stays as it is. */
export const updateSettingsSchema = z.object({
  name: z.string().trim().min(1, "Name may not be empty").max(100, "Name is at most 100 characters").optional(),
  host: connection.host.optional(),
  port: connection.port.optional(),
  database: connection.database.optional(),
  username: connection.username.optional(),
  password: connection.password.optional(),
  sslMode: z.enum(SSL_MODES, { error: "SSL mode must be one of disable, prefer, require, verify-full" }).optional(),
  sslRootCert: connection.sslRootCert.optional(),
});

/** PATCH /api/databases/:id: any of the settings, `trackNewTables`, `enabled` (pause / resume); at least one. */
export const updateDatabaseSchema = z
  .strictObject({
    ...updateSettingsSchema.shape,
    enabled: z.boolean({ error: "enabled must be true or false" }).optional(),
    trackNewTables: z.boolean({ error: "trackNewTables must be true or false" }).optional(),
  })
  .refine((input) => Object.values(input).some((value) => value !== undefined), {
    error: "Give at least one of enabled, trackNewTables or a setting to change",
    path: ["enabled"],
  });

export type UpdateSettings = z.output<typeof updateSettingsSchema>;

const SETTINGS = Object.keys(updateSettingsSchema.shape) as (keyof UpdateSettings)[];
const CONNECTION_SETTINGS = ["host", "port", "database", "username", "password", "sslMode", "sslRootCert"] as const;

/** Whether a PATCH body asks to change any setting (as opposed to only pausing or resuming). */
export function asksForSettings(body: unknown): boolean {
  return typeof body === "object" && body !== null && SETTINGS.some((key) => key in body);
}

/**
 * The checks that decide whether Retrace can go on streaming with the new credentials. Not the free slot and WAL
 * sender checks: the database's own slot (and its worker's sender) already count among the used ones.
 */
const NEEDED: readonly CheckId[] = ["version", "wal_level", "replication", "publication"];

async function verify(
  connection: SourceConnection,
  expected: { systemIdentifier: string | null; databaseOid: number | null },
  publicationName: string,
): Promise<void> {
  await withSourceClient(connection, async (client) => {
    const identity = await identifySource(client, connection);
    if (expected.systemIdentifier !== null && expected.databaseOid !== null) {
      if (
        identity === null ||
        identity.systemIdentifier !== expected.systemIdentifier ||
        identity.databaseOid !== expected.databaseOid
      ) {
        throw new Conflict(
          identity === null
            ? "Retrace cannot tell whether these credentials reach the same database (the role may not call " +
                "pg_control_system()); nothing was changed."
            : `${connection.host}:${connection.port}/${connection.database} is another database than the one ` +
                "connected here; nothing was changed. To capture another database, connect it as a new one.",
        );
      }
    }
    const facts = await gatherFacts(client, [], publicationName);
    const failed = evaluateChecks(facts).find((check) => NEEDED.includes(check.id) && !check.ok);
    if (failed) throw errorForCheck(failed);
    if (identity === null) {
      throw new InsufficientPrivilege(
        `${facts.currentUser} may not ask the server for its system identifier, which tells one database from another.`,
        `GRANT EXECUTE ON FUNCTION pg_control_system() TO ${quoteIdent(facts.currentUser)};`,
      );
    }
  });
}

/** The settings a PATCH changed, by name: what the audit records (never a value of the password). */
export type ChangedSettings = (keyof UpdateSettings)[];

/**
 * Saves new credentials and settings once they are verified. A new password, host or role makes a failing
 * database start again (`pending`, its error cleared) so the pages follow the next attempt.
 */
export async function updateDatabaseSettings(
  db: Queryable,
  secret: string,
  id: string,
  input: unknown,
): Promise<{ database: SourceSummary; changed: ChangedSettings }> {
  const settings = updateSettingsSchema.parse(input);
  const current = await getSource(db, id);
  if (!current) throw new NotFound("Database");
  if (current.removedAt) throw new Conflict("This database was removed; its settings can no longer change.");
  const stored = await getSourceConnection(db, id, secret);
  if (!stored) throw new NotFound("Database");

  const next: SourceConnection = { ...stored.connection };
  const changed: ChangedSettings = [];
  for (const key of CONNECTION_SETTINGS) {
    const value = settings[key];
    if (value === undefined || value === stored.connection[key]) continue;
    (next as Record<string, unknown>)[key] = value;
    changed.push(key);
  }
  if (settings.name !== undefined && settings.name !== current.name) changed.push("name");
  if (changed.length === 0) return { database: current, changed };

  const connectionChanged = changed.some((key) => key !== "name");
  if (connectionChanged) {
    const [identity] = await db
      .select({ systemIdentifier: sources.systemIdentifier, databaseOid: sources.databaseOid })
      .from(sources)
      .where(eq(sources.id, id));
    await verify(next, identity ?? { systemIdentifier: null, databaseOid: null }, stored.names.publicationName);
  }

  await db
    .update(sources)
    .set({
      ...(settings.name !== undefined ? { name: settings.name } : {}),
      ...(connectionChanged
        ? {
            host: next.host,
            port: next.port,
            database: next.database,
            username: next.username,
            passwordEncrypted: encryptSecret(next.password, secret),
            sslMode: next.sslMode,
            sslRootCert: next.sslRootCert ?? null,
          }
        : {}),
    })
    .where(and(eq(sources.id, id), isNull(sources.removedAt)));
  if (connectionChanged) {
    // Verified just now: a failing database is retried with them at once rather than shown failing.
    await db
      .update(sources)
      .set({ status: "pending", lastError: null, lastErrorFix: null, failingSince: null })
      .where(and(eq(sources.id, id), eq(sources.status, "error"), eq(sources.enabled, true)));
    forgetSlotReading(id);
  }
  const database = await getSource(db, id);
  if (!database) throw new NotFound("Database");
  return { database, changed };
}
