import { apiRoute } from "@/lib/auth/session";
import { createUser, listUsers, newUserSchema } from "@/lib/auth/users";
import { recordAudit } from "@/lib/audit/record";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";

export const dynamic = "force-dynamic";

/** GET /api/users (admin) -> { users: [{ id, email, role, active, createdAt }] } */
export const GET = apiRoute(async () => Response.json({ users: await listUsers(getDb()) }), { role: "admin" });

/** POST /api/users (admin) { email, password, role } -> 201 { user } */
export const POST = apiRoute(
  async (request, { principal }) => {
    const input = newUserSchema.parse(await readJsonBody(request));
    const db = getDb();
    const user = await db.transaction(async (tx) => {
      const created = await createUser(tx, input);
      await recordAudit(
        tx,
        principal,
        "user.create",
        { type: "user", id: created.id, label: created.email },
        {
          role: created.role,
        },
      );
      return created;
    });
    return Response.json({ user: { ...user, active: true } }, { status: 201 });
  },
  { role: "admin" },
);
