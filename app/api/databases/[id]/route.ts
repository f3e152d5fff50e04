import { apiRoute } from "@/lib/auth/session";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { asksForSettings, updateDatabaseSettings } from "@/lib/sources/edit";
import { readJsonBody } from "@/lib/http/body";
import { setEnabledSchema } from "@/lib/sources/input";
import { parseRemoveOptions } from "@/lib/sources/remove";
import { describeDatabase, getDatabase, removeDatabase, setDatabaseEnabled } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases/:id -> { database, tables } (tables: the tracked ones; database.slot: read at the source) */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json(await describeDatabase(getDb(), env.web.RETRACE_SECRET, params.id));
});

/**
 * PATCH /api/databases/:id { enabled?, name?, host?, port?, database?, username?, password?, sslMode? }
 *   -> { database }: new credentials are verified at the source before they are saved; `enabled` pauses or resumes.
 */
export const PATCH = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const db = getDb();
    const body = await readJsonBody(request);
    const settings = asksForSettings(body);
    const pauseOrResume = !settings || (typeof body === "object" && body !== null && "enabled" in body);
    // Both are validated before either is applied: a bad `enabled` beside settings changes nothing.
    if (settings && pauseOrResume) setEnabledSchema.parse(body);
    let changed: string[] = [];
    let database = settings
      ? await updateDatabaseSettings(db, env.web.RETRACE_SECRET, params.id, body).then((result) => {
          changed = result.changed;
          return result.database;
        })
      : null;
    // Without settings `enabled` is required (a 400 names it); with them it is optional.
    if (pauseOrResume) {
      database = await setDatabaseEnabled(db, params.id, body);
    }
    if (!database) throw new Error("PATCH changed nothing");
    await recordAudit(
      db,
      principal,
      "database.update",
      { type: "database", id: database.id, label: database.name },
      settings ? { enabled: database.enabled, changed } : { enabled: database.enabled },
    );
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
    const db = getDb();
    const { database } = await getDatabase(db, params.id);
    const removed = await removeDatabase(db, env.web.RETRACE_SECRET, params.id, options);
    await recordAudit(
      db,
      principal,
      "database.remove",
      { type: "database", id: database.id, label: database.name },
      {
        force: options.force,
        changes: removed.changes,
        manualCleanupNeeded: removed.manualCleanupSql !== null,
      },
    );
    return Response.json(removed);
  },
  { role: "admin" },
);
