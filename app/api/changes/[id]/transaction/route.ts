import { apiRoute } from "@/lib/auth/session";
import { parseChangeId } from "@/lib/changes/cursor";
import { parseTransactionParams, transactionChanges } from "@/lib/changes/transaction";
import { getDb } from "@/lib/db";
import { NotFound } from "@/lib/errors";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/changes/:id/transaction?cursor=&limit=: the change's transaction in commit order, a page at a time. */
export const GET = apiRoute<{ id: string }>(async (request, { params }) => {
  const page = parseTransactionParams(new URL(request.url).searchParams);
  const id = parseChangeId(params.id);
  const found = id ? await transactionChanges(getDb(), id, page) : null;
  if (!found) throw new NotFound("Change");
  return rawJsonResponse(found);
});
