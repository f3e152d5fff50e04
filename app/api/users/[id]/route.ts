import { apiRoute } from "@/lib/auth/session";
import { updateUser, userChangeSchema } from "@/lib/auth/users";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";

export const dynamic = "force-dynamic";

/**
 * PATCH /api/users/:id (admin) { role?, active?, password? } -> { user, sessionsEnded }: change the role,
 * deactivate or reactivate, reset the password (deactivating and resetting end the user's sessions).
 */
export const PATCH = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const change = userChangeSchema.parse(await readJsonBody(request));
    const { user, sessionsEnded } = await getDb().transaction(async (tx) => {
      const updated = await updateUser(tx, params.id, change);
      const { user, before, sessionsEnded } = updated;
      const details: Record<string, unknown> = {};
      if (before.role !== user.role) details.role = { from: before.role, to: user.role };
      if (before.active !== user.active) details.active = user.active;
      if (change.password !== undefined) details.passwordReset = true;
      if (sessionsEnded > 0) details.sessionsEnded = sessionsEnded;
      await recordAudit(tx, principal, "user.update", { type: "user", id: user.id, label: user.email }, details);
      return updated;
    });
    return Response.json({ user, sessionsEnded });
  },
  { role: "admin" },
);
