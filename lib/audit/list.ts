import { and, desc, eq, like, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client";
import { auditEvents } from "../db/schema";
import { Invalid } from "../errors";
import { AUDIT_GROUPS, isAuditAction } from "./actions";

export type AuditEvent = {
  id: string;
  at: string;
  actor: { kind: string; id: string | null; label: string };
  action: string;
  target: { type: string; id: string | null; label: string | null } | null;
  details: unknown;
  address: string | null;
};

export type AuditFilters = { action?: string; actor?: string };
export type AuditPage = { cursor?: bigint; limit: number };

const paramsSchema = z
  .object({
    action: z
      .string()
      .trim()
      .refine((value) => isAuditAction(value) || AUDIT_GROUPS.includes(value), {
        message: `must be one of the audit actions (${AUDIT_GROUPS.join(", ")}, or a full name such as user.create)`,
      })
      .optional(),
    actor: z.string().trim().min(1).max(320).optional(),
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,18}$/, "must be the nextCursor of a previous page")
      .transform((value) => BigInt(value))
      .optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** GET /api/audit's query; a bad or repeated parameter is a 400 that names it. */
export function parseAuditParams(params: URLSearchParams): { filters: AuditFilters; page: AuditPage } {
  const raw: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in raw) throw new Invalid(`${key}: given more than once`, [{ path: key, message: "given more than once" }]);
    raw[key] = value;
  }
  const { cursor, limit, ...filters } = paramsSchema.parse(raw);
  return { filters, page: { cursor, limit } };
}

/**
 * The audit log, newest first, keyset-paged on the id. `actor` is an id (user or token) or the actor's email or
 * token name, any case.
 */
export async function listAuditEvents(
  db: Queryable,
  filters: AuditFilters,
  page: AuditPage,
): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (filters.action) {
    where.push(
      filters.action.includes(".")
        ? eq(auditEvents.action, filters.action)
        : like(auditEvents.action, `${filters.action}.%`),
    );
  }
  if (filters.actor) {
    where.push(
      z.uuid().safeParse(filters.actor).success
        ? eq(auditEvents.actorId, filters.actor)
        : sql`lower(${auditEvents.actorLabel}) = lower(${filters.actor})`,
    );
  }
  if (page.cursor !== undefined) where.push(lt(auditEvents.id, page.cursor));
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.id))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  const last = shown.at(-1);
  return {
    events: shown.map((row) => ({
      id: String(row.id),
      at: row.at.toISOString(),
      actor: { kind: row.actorKind, id: row.actorId, label: row.actorLabel },
      action: row.action,
      target: row.targetType ? { type: row.targetType, id: row.targetId, label: row.targetLabel } : null,
      details: row.details,
      address: row.address,
    })),
    nextCursor: more && last ? String(last.id) : null,
  };
}
