import { apiRoute } from "@/lib/auth/session";
import { recordAsOf } from "@/lib/changes/as-of";
import { parseRecordAsOfParams } from "@/lib/changes/as-of-params";
import { getDb } from "@/lib/db";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/records/as-of?database=&table=&primaryKey=&at=: one row as it was at a moment of source commit time. */
export const GET = apiRoute(async (request) => {
  const { record, at } = parseRecordAsOfParams(new URL(request.url).searchParams);
  return rawJsonResponse(await recordAsOf(getDb(), record, at));
});
