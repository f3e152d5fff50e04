import { apiRoute } from "@/lib/auth/session";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { parseRemoveOptions } from "@/lib/sources/remove";
import { describeDatabase, removeDatabase, updateDatabase } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases/:id -> { database, tables } (tables: the tracked ones; database.slot: read at the source) */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json(await describeDatabase(getDb(), env.web.RETRACE_SECRET, params.id));
});

/**
 * PATCH /api/databases/:id { enabled?, trackNewTables?, name?, host?, port?, database?, username?, password?,
 *   sslMode?, sslRootCert? } -> { database }: new credentials are verified at the source before they are saved;
 *   `trackNewTables` installs or drops the event trigger at the source (lib/sources/new-tables.ts); `enabled`
 *   pauses or resumes.
 */
export const PATCH = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const body = await readJsonBody(request);
    // The settings and the audit row commit together. `trackNewTables` installs or drops the event trigger at the
    // source first, outside the store's transaction: when the store's part then fails, the request fails, and the
    // trigger may be as asked while the stored setting is not (the tables page reads the trigger from the source).
    const database = await getDb().transaction(async (tx) => {
      const { database, changed } = await updateDatabase(tx, env.web.RETRACE_SECRET, params.id, body);
      // What was asked for, as it now is; of settings, only which changed (never their values).
      const asked = typeof body === "object" && body !== null ? body : {};
      await recordAudit(
        tx,
        principal,
        "database.update",
        { type: "database", id: database.id, label: database.name },
        {
          ...("enabled" in asked ? { enabled: database.enabled } : {}),
          ...("trackNewTables" in asked ? { trackNewTables: database.trackNewTables } : {}),
          ...(changed.length > 0 ? { changed } : {}),
        },
      );
      return database;
    });
    return Response.json({ database });
  },
  { role: "admin" },
);

/**
 * DELETE /api/databases/:id[?changes=keep|delete][&force=true] -> { id, changes, manualCleanupSql }
 * `changes=keep` keeps the captured changes, searchable under the database's name; the default deletes them.
 */
export const DELETE = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const options = parseRemoveOptions(new URL(request.url).searchParams);
    // Each store step commits with its audit row (lib/sources/remove.ts).
    const removed = await removeDatabase(getDb(), env.web.RETRACE_SECRET, params.id, options, principal);
    return Response.json(removed);
  },
  { role: "admin" },
);
