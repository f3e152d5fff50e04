import type pg from "pg";
import { z } from "zod";
import { recordAudit, type AuditActor } from "../audit/record";
import type { Db, Queryable } from "../db/client";
import { AppError, Invalid, NotFound } from "../errors";
import { createLogger } from "../log";
import { withSourceClient } from "./connection";
import { SourceError } from "./errors";
import type { OriginalIdentity } from "../db/schema/sources";
import { deprovisionSource, manualCleanupSql } from "./deprovision";
import { identityRestoreStatements, restoreIdentitySql } from "./replica-identity";
import { getSource, getSourceConnection, setSourceEnabled } from "./queries";
import { deleteSource, markSourceRemoved } from "./source-lifecycle";
import { trackedOriginalIdentities } from "./tracked-table-queries";
import { forgetSlotReading } from "./slot-readings";
import { sourceId } from "./stored-source";

/**
 * Removing a database: Retrace lets go of the source (slot and publication dropped, the replica identities it
 * changed put back), and then either deletes the captured changes with the database, or keeps them: the source's
 * row stays, marked removed, so its changes are still listed, filtered and searched under its database name and
 * environment (lib/changes/scope.ts resolves those through the sources table).
 */

const log = createLogger("sources");

export const removeOptionsSchema = z.object({
  changes: z.enum(["keep", "delete"], { error: "changes must be keep or delete" }).default("delete"),
  force: z.enum(["true", "false"], { error: "force must be true or false" }).default("false"),
});

export type RemoveOptions = { changes: "keep" | "delete"; force: boolean };

/** DELETE /api/databases/:id's query: `changes` (keep | delete, default delete) and `force`. */
export function parseRemoveOptions(params: URLSearchParams): RemoveOptions {
  for (const name of ["changes", "force"]) {
    if (params.getAll(name).length > 1) {
      throw new Invalid(`${name}: given more than once`, [{ path: name, message: "given more than once" }]);
    }
  }
  const parsed = removeOptionsSchema.parse({
    changes: params.get("changes") ?? undefined,
    force: params.get("force") ?? undefined,
  });
  return { changes: parsed.changes, force: parsed.force === "true" };
}

export type RemoveResult = {
  id: string;
  /** Whether the captured changes were kept (searchable under the database's name) or deleted. */
  changes: "kept" | "deleted";
  /** SQL to run at the source by hand: what Retrace could not clean up there (forced removal); null when none. */
  manualCleanupSql: string | null;
};

/**
 * Puts back the replica identities Retrace set to FULL (identityRestoreStatements): one Retrace may no longer alter
 * is left as SQL to run by hand.
 */
async function restoreIdentitiesLeavingSql(
  client: pg.Client,
  originals: readonly OriginalIdentity[],
): Promise<string[]> {
  const leftOver: string[] = [];
  for (const statement of await identityRestoreStatements(client, originals)) {
    try {
      await client.query(statement);
    } catch (error) {
      log.warn({ statement, err: error }, "could not restore a replica identity");
      leftOver.push(`${statement};`);
    }
  }
  return leftOver;
}

/**
 * Removes a database: pause it (the worker lets go of the slot within seconds), drop slot and publication at the
 * source and restore the replica identities, then delete it from the store with its changes, or mark it removed
 * keeping them. When the source cannot be cleaned up nothing is removed unless `force` is set; the answer then
 * carries the SQL to run at the source by hand. A database already removed (its changes kept) can be removed
 * again to delete its changes; the source is not contacted then.
 *
 * Each store step commits with its audit row by `actor`: the pause (committed first, for the worker to see it) as
 * `database.update`, the removal as `database.remove`. What can still differ: the source cleaned up and then the
 * removal's transaction failed. The request fails; the store still has the database, paused, and removing it
 * again finishes the job (dropping what is gone already is no error).
 */
export async function removeDatabase(
  db: Db,
  secret: string,
  id: string,
  options: RemoveOptions,
  actor: AuditActor,
): Promise<RemoveResult> {
  const existing = await getSource(db, sourceId(id));
  if (!existing) throw new NotFound("Database");
  const changes = options.changes === "keep" ? "kept" : "deleted";
  const target = { type: "database", id, label: existing.name };
  const removed = async (tx: Queryable, result: RemoveResult) => {
    if (options.changes === "keep") await markSourceRemoved(tx, id);
    else await deleteSource(tx, id);
    await recordAudit(tx, actor, "database.remove", target, {
      force: options.force,
      changes: result.changes,
      manualCleanupNeeded: result.manualCleanupSql !== null,
    });
    return result;
  };
  if (existing.removedAt) {
    return db.transaction((tx) => removed(tx, { id, changes, manualCleanupSql: null }));
  }
  const source = await getSourceConnection(db, id, secret);
  if (!source) throw new NotFound("Database");
  await db.transaction(async (tx) => {
    if ((await setSourceEnabled(tx, id, false)) && existing.enabled) {
      await recordAudit(tx, actor, "database.update", target, { enabled: false, removing: true });
    }
  });
  forgetSlotReading(id);
  // What each tracked table (and its partitions) had before Retrace set REPLICA IDENTITY FULL.
  const identityChanges = [...(await trackedOriginalIdentities(db, id)).values()].flat();
  let cleanup: string[] = [];
  try {
    cleanup = await withSourceClient(source.connection, async (client) => {
      await deprovisionSource(client, source.names);
      return restoreIdentitiesLeavingSql(client, identityChanges);
    });
  } catch (error) {
    const manual = [
      manualCleanupSql(source.names),
      ...identityChanges.filter((c) => c.relreplident !== "f").map((c) => `${restoreIdentitySql(c)};`),
    ];
    cleanup = manual;
    if (!options.force) {
      const reason = error instanceof AppError ? error.message : "The source could not be cleaned up.";
      if (!(error instanceof AppError)) log.error({ err: error, sourceId: id }, "deprovisioning failed");
      throw new SourceError(
        error instanceof SourceError ? error.code : "provisioning_failed",
        `${reason} Nothing was removed and the database is paused. Fix the connection and try again, ` +
          "or remove it anyway (force) and run the SQL below at the source.",
        manual.join("\n"),
      );
    }
  }
  const manualCleanup = cleanup.length > 0 ? cleanup.join("\n") : null;
  return db.transaction((tx) => removed(tx, { id, changes, manualCleanupSql: manualCleanup }));
}
