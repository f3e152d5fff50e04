import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { releaseHold } from "@/lib/holds/holds";

export const dynamic = "force-dynamic";

/**
 * DELETE /api/holds/:id (admin) -> { hold }: released; the next expiry round may drop what it kept. Releasing a
 * released hold changes and records nothing. Audited as hold.release.
 */
export const DELETE = apiRoute<{ id: string }>(
  async (_request, { params, principal }) => {
    const { hold } = await releaseHold(getDb(), principal, params.id);
    return Response.json({ hold });
  },
  { role: "admin" },
);
