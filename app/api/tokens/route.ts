import { apiRoute } from "@/lib/auth/session";
import { createApiToken, listApiTokens, newTokenSchema } from "@/lib/auth/tokens";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";

export const dynamic = "force-dynamic";

/** GET /api/tokens (admin) -> { tokens: [{ id, name, role, createdAt, lastUsedAt, revokedAt, createdByEmail }] } */
export const GET = apiRoute(async () => Response.json({ tokens: await listApiTokens(getDb()) }), { role: "admin" });

/** POST /api/tokens (admin) { name, role } -> 201 { token, secret }: the secret is in this answer only. */
export const POST = apiRoute(
  async (request, { principal }) => {
    const { name, role } = newTokenSchema.parse(await readJsonBody(request));
    const db = getDb();
    const created = await db.transaction(async (tx) => {
      const token = await createApiToken(tx, name, {
        role,
        createdBy: principal.kind === "user" ? principal.id : null,
      });
      await recordAudit(tx, principal, "token.create", { type: "token", id: token.id, label: token.name }, { role });
      return token;
    });
    const { token: secret, ...token } = created;
    return Response.json({ token, secret }, { status: 201 });
  },
  { role: "admin" },
);
