import { apiRoute } from "@/lib/auth/session";
import { recordHistory } from "@/lib/changes/history";
import { parseHistoryParams } from "@/lib/changes/params";
import { getDb } from "@/lib/db";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/records/history?table=&primaryKey=&database=&sourceId=&cursor=&limit=: one row's changes, newest first. */
export const GET = apiRoute(async (request) => {
  const { record, page } = parseHistoryParams(new URL(request.url).searchParams);
  return rawJsonResponse(await recordHistory(getDb(), record, page));
});
