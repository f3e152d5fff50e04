import { z } from "zod";
import { apiRoute } from "@/lib/auth/session";
import { listBaselines, requestBaseline } from "@/lib/baselines/queries";
import { getDb } from "@/lib/db";
import { NotFound } from "@/lib/errors";
import { readJsonBody } from "@/lib/sources/http";

export const dynamic = "force-dynamic";

function sourceId(id: string): string {
  if (!z.uuid().safeParse(id).success) throw new NotFound("Database");
  return id;
}

const body = z.object({
  table: z.string({ error: "is required" }).trim().min(1, "is required").max(500, "must be at most 500 characters"),
});

/** GET /api/databases/:id/baselines -> { baselines: [Baseline] }, newest first: progress and outcome. */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  return Response.json({ baselines: await listBaselines(getDb(), sourceId(params.id)) });
});

/** POST /api/databases/:id/baselines { table } -> 202 { baseline }: the worker copies the table's rows. */
export const POST = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const id = sourceId(params.id);
    const { table } = body.parse(await readJsonBody(request));
    const who = principal.kind === "user" ? principal.email : `token ${principal.name}`;
    return Response.json({ baseline: await requestBaseline(getDb(), id, table, who) }, { status: 202 });
  },
  { role: "admin" },
);
