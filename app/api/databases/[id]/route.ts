import { apiRoute } from "@/lib/auth/session";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { readJsonBody } from "@/lib/sources/http";
import { getDatabase, removeDatabase, setDatabaseEnabled } from "@/lib/sources/service";

export const dynamic = "force-dynamic";

/** GET /api/databases/:id -> { database, tables } (tables: the tracked ones) */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json(await getDatabase(getDb(), params.id));
});

/** PATCH /api/databases/:id { enabled } -> { database } (pause / resume) */
export const PATCH = apiRoute<{ id: string }>(
  async (request, { params }) => {
    const database = await setDatabaseEnabled(getDb(), params.id, await readJsonBody(request));
    return Response.json({ database });
  },
  { role: "admin" },
);

/** DELETE /api/databases/:id[?force=true] -> { id, manualCleanupSql } */
export const DELETE = apiRoute<{ id: string }>(
  async (request, { params }) => {
    const force = new URL(request.url).searchParams.get("force") === "true";
    return Response.json(await removeDatabase(getDb(), env.web.RETRACE_SECRET, params.id, { force }));
  },
  { role: "admin" },
);
