import { apiRoute } from "@/lib/auth/session";
import { parseHistoryParams, recordHistory } from "@/lib/changes/history";
import { getDb } from "@/lib/db";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/**
 * GET /api/records/history?database=&table=&primaryKey=&sourceId=&cursor=&limit=: every change of one row,
 * newest first, keyset-paginated. See lib/changes/history.ts.
 */
export const GET = apiRoute(async (request) => {
  const { key, page } = parseHistoryParams(new URL(request.url).searchParams);
  return rawJsonResponse(await recordHistory(getDb(), key, page));
});
