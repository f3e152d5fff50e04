import { apiRoute } from "@/lib/auth/session";
import { recordAudit } from "@/lib/audit/record";
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
    const database = await connectDatabase(getDb(), env.web.RETRACE_SECRET, await readJsonBody(request));
    await recordAudit(
      getDb(),
      principal,
      "database.connect",
      { type: "database", id: database.id, label: database.name },
      {
        host: database.host,
        port: database.port,
        database: database.database,
        environment: database.environment,
      },
    );
    return Response.json({ database }, { status: 201 });
  },
  { role: "admin" },
);
