import { apiRoute } from "@/lib/auth/session";
import { parseTablesParams } from "@/lib/changes/params";
import { trailTables } from "@/lib/changes/trail";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * GET /api/trail/tables?q=&environment=&database=: the tables the trail holds (in that environment and database),
 * for type-ahead.
 */
export const GET = apiRoute(async (request) => {
  const options = parseTablesParams(new URL(request.url).searchParams);
  return Response.json({ tables: await trailTables(getDb(), options) });
});
