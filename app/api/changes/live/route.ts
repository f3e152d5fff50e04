import { apiRoute } from "@/lib/auth/session";
import { liveChanges } from "@/lib/changes/live";
import { liveParams, parseFilterParams } from "@/lib/changes/params";
import { getDb } from "@/lib/db";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/changes/live?<filters>&token=…: what was stored since the token, newest first. See lib/changes/live.ts. */
export const GET = apiRoute(async (request) => {
  const { filters, extra } = parseFilterParams(new URL(request.url).searchParams, liveParams);
  return rawJsonResponse(await liveChanges(getDb(), filters, extra.token, extra.limit));
});
