import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";
import { retentionUpdateSchema } from "@/lib/retention/input";
import { readRetention, replaceRetentionRules } from "@/lib/retention/settings";

export const dynamic = "force-dynamic";

/**
 * GET /api/retention -> { environments, rules: [{ environment, table, days, archive }], lastUpdate }: how long
 * the trail keeps changes, per environment (table null) and per table. No rule: kept forever.
 */
export const GET = apiRoute(async () => Response.json(await readRetention(getDb())));

/** PUT /api/retention (admin) { rules: [...] } -> the new settings: replaces every rule at once, audited. */
export const PUT = apiRoute(
  async (request, { principal }) => {
    const { rules } = retentionUpdateSchema.parse(await readJsonBody(request));
    return Response.json(await replaceRetentionRules(getDb(), principal, rules));
  },
  { role: "admin" },
);
