import type { Principal } from "../auth/principal";
import type { Queryable } from "../db/client";
import { auditEvents } from "../db/schema";
import type { AuditAction } from "./actions";

export type AuditTarget = { type: string; id: string; label?: string | null } | null;

/**
 * Notes in Retrace's own audit log that `principal` did `action` to `target`. Call it after the change it
 * describes succeeded (in its transaction when there is one). `details` is small JSON: what changed, never a
 * secret.
 */
export async function recordAudit(
  db: Queryable,
  principal: Principal,
  action: AuditAction,
  target: AuditTarget,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.insert(auditEvents).values({
    actorKind: principal.kind,
    actorId: principal.id,
    actorLabel: principal.kind === "user" ? principal.email : principal.name,
    action,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    targetLabel: target?.label ?? null,
    details,
    address: principal.address,
  });
}
