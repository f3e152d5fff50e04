import { apiRoute } from "@/lib/auth/session";
import { changeActivity } from "@/lib/changes/activity";
import { activityParams, parseFilterParams } from "@/lib/changes/params";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

/** GET /api/changes/activity?<filters>&buckets=n: changes by operation over the range. See lib/changes/activity.ts. */
export const GET = apiRoute(async (request) => {
  const { filters, extra } = parseFilterParams(new URL(request.url).searchParams, activityParams);
  return Response.json(await changeActivity(getDb(), filters, extra.buckets));
});
