import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { recordDatabaseAudit } from "@/lib/sources/service";
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
    const body = await readJsonBody(request);
    // The store's tracked set and the audit row commit together. The publication at the source is changed before
    // (it cannot join the store's transaction): when the store's part then fails, the request fails, and the
    // source may already publish the new set while the store still tracks the old one, until it is saved again.
    const tables = await getDb().transaction(async (tx) => {
      const tracked = await updateTrackedTables(tx, env.web.RETRACE_SECRET, params.id, body);
      await recordDatabaseAudit(tx, principal, "database.tables", params.id, {
        tables: tracked.map((t) => `${t.schema}.${t.table}`),
      });
      return tracked;
    });
    return Response.json({ tables });
  },
  { role: "admin" },
);
