import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/sources/http";
import { listSources } from "@/lib/sources/queries";
import { connectDatabase } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases -> { databases } */
export const GET = apiRoute(async () => {
  return Response.json({ databases: await listSources(getDb()) });
});

/**
 * POST /api/databases { host, port, database, username, password, environment, sslMode?, name?, tables? }
 *   -> 201 { database }
 */
export const POST = apiRoute(
  async (request) => {
    const database = await connectDatabase(getDb(), env.web.RETRACE_SECRET, await readJsonBody(request));
    return Response.json({ database }, { status: 201 });
  },
  { role: "admin" },
);
