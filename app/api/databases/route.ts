import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { connectDatabase } from "@/lib/sources/connect-database";
import { listDatabases } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases -> { databases } (removed ones too, with removedAt; each with its slot read at the source) */
export const GET = apiRoute(async () => {
  return Response.json({ databases: await listDatabases(getDb(), env.web.RETRACE_SECRET) });
});

/**
 * POST /api/databases { host, port, database, username, password, environment, sslMode?, name?, tables? }
 *   -> 201 { database }
 */
export const POST = apiRoute(
  async (request, { principal }) => {
    // Audited in the store transaction that records the database (undone at the source if that fails).
    const database = await connectDatabase(getDb(), env.web.RETRACE_SECRET, await readJsonBody(request), {
      actor: principal,
    });
    return Response.json({ database }, { status: 201 });
  },
  { role: "admin" },
);
