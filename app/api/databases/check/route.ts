import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { readJsonBody } from "@/lib/http/body";
import { checkConnection } from "@/lib/sources/connect-database";

export const dynamic = "force-dynamic";

/**
 * POST /api/databases/check { host, port, database, username, password, sslMode?, tables? }
 *   -> { ok, checks, roleSql }
 */
export const POST = apiRoute(
  async (request) => Response.json(await checkConnection(getDb(), await readJsonBody(request))),
  {
    role: "admin",
  },
);
