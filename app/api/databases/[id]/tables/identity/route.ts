import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { recordDatabaseAudit } from "@/lib/sources/service";
import { fixReplicaIdentity } from "@/lib/sources/tracked-tables";

export const dynamic = "force-dynamic";

/**
 * POST /api/databases/:id/tables/identity { table: "schema.table" } -> { table }
 * Sets REPLICA IDENTITY FULL on the table (403 insufficient_privilege with the owner's SQL in details.fix
 * when Retrace's role does not own it).
 */
export const POST = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    // The body first: a bad one is a 400 (or 413) whether or not the database exists.
    const body = await readJsonBody(request);
    // The change is the source's alone (ALTER TABLE there); the store only records it. When the audit row then
    // cannot be written, the request fails and says so, though the table's identity is FULL at the source already
    // (the tables page reads it from there, so nothing in the store claims otherwise).
    const table = await getDb().transaction(async (tx) => {
      const fixed = await fixReplicaIdentity(tx, env.web.RETRACE_SECRET, params.id, body);
      await recordDatabaseAudit(tx, principal, "database.identity", params.id, {
        table: `${fixed.schema}.${fixed.name}`,
      });
      return fixed;
    });
    return Response.json({ table });
  },
  { role: "admin" },
);
