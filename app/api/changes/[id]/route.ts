import { apiRoute } from "@/lib/auth/session";
import { parseChangeId } from "@/lib/changes/cursor";
import { getChange } from "@/lib/changes/queries";
import { getDb } from "@/lib/db";
import { NotFound } from "@/lib/errors";
import { rawJsonResponse } from "@/lib/http/json";

export const dynamic = "force-dynamic";

/** GET /api/changes/:id: the change and the changes of its transaction. */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  const id = parseChangeId(params.id);
  const detail = id ? await getChange(getDb(), id) : null;
  if (!detail) throw new NotFound("Change");
  return rawJsonResponse(detail);
});
