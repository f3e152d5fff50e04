import { apiRoute } from "@/lib/auth/session";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { getDatabase } from "@/lib/sources/service";
import { sourceTables, updateTrackedTables } from "@/lib/sources/tracked-tables";

export const dynamic = "force-dynamic";

/**
 * GET /api/databases/:id/tables
 *   -> { tables: [{ schema, name, primaryKey, hasPrimaryKey, replicaIdentity, approxRows, partitioned, tracked,
 *                   setup }],
 *        dropped: [{ schema, table, createdAt }], newTables: { enabled, active, sql } }
 */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json(await sourceTables(getDb(), env.web.RETRACE_SECRET, params.id));
});

/** PUT /api/databases/:id/tables { tables: ["schema.table", ...] } -> { tables } (the tracked set) */
export const PUT = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const db = getDb();
    const tables = await updateTrackedTables(db, env.web.RETRACE_SECRET, params.id, await readJsonBody(request));
    const { database } = await getDatabase(db, params.id);
    await recordAudit(
      db,
      principal,
      "database.tables",
      { type: "database", id: database.id, label: database.name },
      { tables: tables.map((t) => `${t.schema}.${t.table}`) },
    );
    return Response.json({ tables });
  },
  { role: "admin" },
);
