import { apiRoute } from "@/lib/auth/session";
import { tableAsOf } from "@/lib/changes/as-of";
import { parseTableAsOfParams } from "@/lib/changes/as-of-params";
import { getDb } from "@/lib/db";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/tables/as-of?database=&table=&at=&cursor=&limit=: every row of a table as it was at a moment. */
export const GET = apiRoute(async (request) => {
  const { table, at, page } = parseTableAsOfParams(new URL(request.url).searchParams);
  return rawJsonResponse(await tableAsOf(getDb(), table, at, page));
});
