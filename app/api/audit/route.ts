import { apiRoute } from "@/lib/auth/session";
import { listAuditEvents, parseAuditParams } from "@/lib/audit/list";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";

/** GET /api/audit?action=&actor=&cursor=&limit= (admin) -> { events, nextCursor }: Retrace's own audit log. */
export const GET = apiRoute(
  async (request) => {
    const { filters, page } = parseAuditParams(new URL(request.url).searchParams);
    return Response.json(await listAuditEvents(getDb(), filters, page));
  },
  { role: "admin" },
);
