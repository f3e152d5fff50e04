import { apiRoute } from "@/lib/auth/session";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/sources/http";
import { getDatabase, removeDatabase, updateDatabase } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases/:id -> { database, tables } (tables: the tracked ones) */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json(await getDatabase(getDb(), params.id));
});

/**
 * PATCH /api/databases/:id { enabled?, trackNewTables? } -> { database }
 * (pause / resume; track new tables automatically: the event trigger at the source, lib/sources/new-tables.ts)
 */
export const PATCH = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const body = await readJsonBody(request);
    const database = await updateDatabase(getDb(), env.web.RETRACE_SECRET, params.id, body);
    // What was asked for, as it now is.
    const asked = typeof body === "object" && body !== null ? body : {};
    await recordAudit(
      getDb(),
      principal,
      "database.update",
      { type: "database", id: database.id, label: database.name },
      {
        ...("enabled" in asked ? { enabled: database.enabled } : {}),
        ...("trackNewTables" in asked ? { trackNewTables: database.trackNewTables } : {}),
      },
    );
    return Response.json({ database });
  },
  { role: "admin" },
);

/** DELETE /api/databases/:id[?force=true] -> { id, manualCleanupSql } */
export const DELETE = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const force = new URL(request.url).searchParams.get("force") === "true";
    const db = getDb();
    const { database } = await getDatabase(db, params.id);
    const removed = await removeDatabase(db, env.web.RETRACE_SECRET, params.id, { force });
    await recordAudit(
      db,
      principal,
      "database.remove",
      { type: "database", id: database.id, label: database.name },
      {
        force,
        manualCleanupNeeded: removed.manualCleanupSql !== null,
      },
    );
    return Response.json(removed);
  },
  { role: "admin" },
);
