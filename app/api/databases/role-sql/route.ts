import { apiRoute } from "@/lib/auth/session";
import { singleParams } from "@/lib/changes/params";
import { roleSqlQuerySchema, toTableRefs } from "@/lib/sources/input";
import { roleSql } from "@/lib/sources/role-sql";

export const dynamic = "force-dynamic";

/**
 * GET /api/databases/role-sql?database=shop[&hostKind=rds][&tables=public.orders,public.items] -> { roleSql }: the
 * SQL for a dedicated role, before any connection (the connect form shows it as the database name is typed; a
 * check answers it with the source's schemas and table owners).
 */
export const GET = apiRoute(
  async (request) => {
    const query = roleSqlQuerySchema.parse(singleParams(new URL(request.url).searchParams));
    return Response.json({
      roleSql: roleSql(query.database, { hostKind: query.hostKind, tables: toTableRefs(query.tables) }),
    });
  },
  { role: "admin" },
);
