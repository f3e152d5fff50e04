import { z } from "zod";
import { apiRoute } from "@/lib/auth/session";
import { singleParams } from "@/lib/changes/params";
import { getDb } from "@/lib/db";
import { createHold, listHolds } from "@/lib/holds/holds";
import { holdInputSchema } from "@/lib/holds/input";
import { readJsonBody } from "@/lib/http/body";

export const dynamic = "force-dynamic";

const listParams = z
  .object({ released: z.enum(["true", "false"], { error: "released must be true or false" }).optional() })
  .strict();

/**
 * GET /api/holds[?released=true] -> { holds: [{ id, database, from, to, reason, createdBy, createdAt, releasedAt,
 * releasedBy }] }: the active holds on the trail (and the released ones too with released=true).
 */
export const GET = apiRoute(async (request) => {
  const { released } = listParams.parse(singleParams(new URL(request.url).searchParams));
  return Response.json({ holds: await listHolds(getDb(), { released: released === "true" }) });
});

/**
 * POST /api/holds (admin) { database, from, to, reason } -> 201 { hold }: keeps the database's changes committed in
 * [from, to) from expiry until released, whatever the retention rules say. Audited as hold.create.
 */
export const POST = apiRoute(
  async (request, { principal }) => {
    const input = holdInputSchema.parse(await readJsonBody(request));
    return Response.json({ hold: await createHold(getDb(), principal, input) }, { status: 201 });
  },
  { role: "admin" },
);
