import { apiRoute } from "@/lib/auth/session";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { getDatabase } from "@/lib/sources/service";
import { fixReplicaIdentity } from "@/lib/sources/tracked-tables";

export const dynamic = "force-dynamic";

/**
 * POST /api/databases/:id/tables/identity { table: "schema.table" } -> { table }
 * Sets REPLICA IDENTITY FULL on the table (403 insufficient_privilege with the owner's SQL in details.fix
 * when Retrace's role does not own it).
 */
export const POST = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const db = getDb();
    // The body first: a bad one is a 400 (or 413) whether or not the database exists.
    const body = await readJsonBody(request);
    const table = await fixReplicaIdentity(db, env.web.RETRACE_SECRET, params.id, body);
    const { database } = await getDatabase(db, params.id);
    await recordAudit(
      db,
      principal,
      "database.identity",
      { type: "database", id: database.id, label: database.name },
      { table: `${table.schema}.${table.name}` },
    );
    return Response.json({ table });
  },
  { role: "admin" },
);
