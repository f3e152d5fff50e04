import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";
import { retentionUpdateSchema } from "@/lib/retention/input";
import { previewRetention } from "@/lib/storage/service";

export const dynamic = "force-dynamic";

/**
 * POST /api/retention/preview { rules: [...] } -> { rules: [{ ...rule, now, within7Days, within30Days }], total }:
 * what those rules would free of the partitions there are now, changing nothing. Only reads: viewers may.
 */
export const POST = apiRoute(async (request) => {
  const { rules } = retentionUpdateSchema.parse(await readJsonBody(request));
  return Response.json(await previewRetention(getDb(), rules, new Date()));
});
