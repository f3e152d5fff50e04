import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";
import { columnRules, recordDatabaseAudit, updateColumnRules } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases/:id/columns -> { rules: [{ pattern, action }], skipExcludedOnlyUpdates } */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json(await columnRules(getDb(), params.id));
});

/**
 * PUT /api/databases/:id/columns
 *   { rules: [{ pattern: "schema.table.column" | "table.column", action: "exclude" | "mask" }],
 *   skipExcludedOnlyUpdates? } -> the rules as stored
 */
export const PUT = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    // The body first: a bad one is a 400 (or 413) whether or not the database exists.
    const body = await readJsonBody(request);
    const rules = await getDb().transaction(async (tx) => {
      const saved = await updateColumnRules(tx, params.id, body);
      await recordDatabaseAudit(tx, principal, "database.columns", params.id, {
        rules: saved.rules.map((r) => `${r.action} ${r.pattern}`),
        skipExcludedOnlyUpdates: saved.skipExcludedOnlyUpdates,
      });
      return saved;
    });
    return Response.json(rules);
  },
  { role: "admin" },
);
