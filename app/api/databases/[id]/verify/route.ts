import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { apiRoute } from "@/lib/auth/session";
import { getStore } from "@/lib/db";
import { env } from "@/lib/env";
import { NotFound } from "@/lib/errors";
import { readJsonBody } from "@/lib/http/body";
import { verifyDatabases } from "@/lib/seals/databases";

export const dynamic = "force-dynamic";

const body = z.strictObject({
  from: z.iso.datetime({ offset: true, error: "must be an ISO 8601 time" }).optional(),
});

/**
 * POST /api/databases/:id/verify { from? } -> { verification }: re-computes the database's sealed hash chain
 * (lib/seals) and names the first change altered, inserted or removed since it was sealed. It only reads the
 * trail, so viewers may; each run is audited.
 */
export const POST = apiRoute<{ id: string }>(async (request, { params, principal }) => {
  const { from } = body.parse(await readJsonBody(request));
  if (!z.uuid().safeParse(params.id).success) throw new NotFound("Database");
  const [verification] = await verifyDatabases(getStore().pool, env.web.RETRACE_SECRET, {
    database: params.id,
    from: from ? new Date(from) : undefined,
  });
  if (!verification || verification.sourceId !== params.id) throw new NotFound("Database");
  await recordAudit(
    getStore().db,
    principal,
    "database.verify",
    { type: "database", id: verification.sourceId, label: verification.name },
    verification.ok
      ? {
          ok: true,
          verified: verification.verified,
          unsealed: verification.unsealed,
          expired: verification.expired,
        }
      : { ok: false, problem: verification.problem, change: verification.change?.id ?? null },
  );
  return Response.json({ verification });
});
