import { sql } from "drizzle-orm";
import { z } from "zod";
import { recordAudit } from "@/lib/audit/record";
import { apiRoute } from "@/lib/auth/session";
import { listBaselines, requestBaseline } from "@/lib/baselines/queries";
import { getDb } from "@/lib/db";
import { NotFound } from "@/lib/errors";
import { readJsonBody } from "@/lib/http/body";

export const dynamic = "force-dynamic";

/** The database's id and name; 404 for an id that is no database. */
async function database(id: string): Promise<{ id: string; name: string }> {
  if (!z.uuid().safeParse(id).success) throw new NotFound("Database");
  const found = await getDb().execute<{ name: string }>(sql`select name from sources where id = ${id}::uuid`);
  const [row] = found.rows;
  if (!row) throw new NotFound("Database");
  return { id, name: row.name };
}

const body = z.strictObject({
  table: z.string({ error: "is required" }).trim().min(1, "is required").max(500, "must be at most 500 characters"),
});

/** GET /api/databases/:id/baselines -> { baselines: [Baseline] }, newest first: progress and outcome. */
export const GET = apiRoute<{ id: string }>(async (_request, { params }) => {
  const { id } = await database(params.id);
  return Response.json({ baselines: await listBaselines(getDb(), id) });
});

/** POST /api/databases/:id/baselines { table } -> 202 { baseline }: the worker copies the table's rows. */
export const POST = apiRoute<{ id: string }>(
  async (request, { params, principal }) => {
    const { table } = body.parse(await readJsonBody(request));
    const target = await database(params.id);
    const who = principal.kind === "user" ? principal.email : `token ${principal.name}`;
    const baseline = await getDb().transaction(async (tx) => {
      const requested = await requestBaseline(tx, target.id, table, who);
      await recordAudit(
        tx,
        principal,
        "baseline.start",
        { type: "database", id: target.id, label: target.name },
        { table: `${requested.schema}.${requested.table}` },
      );
      return requested;
    });
    return Response.json({ baseline }, { status: 202 });
  },
  { role: "admin" },
);
