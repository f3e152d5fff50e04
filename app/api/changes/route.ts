import { apiRoute } from "@/lib/auth/session";
import { parseListParams } from "@/lib/changes/params";
import { listChanges } from "@/lib/changes/queries";
import { getDb } from "@/lib/db";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/changes: newest first, filtered, keyset-paginated. See lib/changes/params.ts. */
export const GET = apiRoute(async (request) => {
  const { filters, page } = parseListParams(new URL(request.url).searchParams);
  return rawJsonResponse(await listChanges(getDb(), filters, page));
});
