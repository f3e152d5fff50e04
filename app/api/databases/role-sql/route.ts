import { apiRoute } from "@/lib/auth/session";
import { singleParams } from "@/lib/changes/params";
import { roleSqlQuerySchema } from "@/lib/sources/input";
import { roleSql } from "@/lib/sources/role-sql";

export const dynamic = "force-dynamic";

/**
 * GET /api/databases/role-sql?database=shop -> { roleSql }: the SQL for a dedicated role, before any connection
 * (the connect form shows it as the database name is typed; a check answers it with the source's schemas).
 */
export const GET = apiRoute(
  async (request) => {
    const { database } = roleSqlQuerySchema.parse(singleParams(new URL(request.url).searchParams));
    return Response.json({ roleSql: roleSql(database) });
  },
  { role: "admin" },
);
