import { apiRoute } from "@/lib/auth/session";
import { revokeApiToken } from "@/lib/auth/tokens";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

/** DELETE /api/tokens/:id (admin) -> { token }: revoked from now on (revoking again changes nothing). */
export const DELETE = apiRoute<{ id: string }>(
  async (_request, { params, principal }) => {
    const db = getDb();
    const { token } = await db.transaction(async (tx) => {
      const result = await revokeApiToken(tx, params.id);
      if (result.revoked) {
        await recordAudit(tx, principal, "token.revoke", {
          type: "token",
          id: result.token.id,
          label: result.token.name,
        });
      }
      return result;
    });
    return Response.json({ token });
  },
  { role: "admin" },
);
