import type { Principal } from "../auth/principal";
import type { Queryable } from "../db/client";
import { auditEvents } from "../db/schema";
import type { AuditAction } from "./actions";

export type AuditTarget = { type: string; id: string; label?: string | null } | null;

/**
 * Who an audit row names: a request's principal, the command line (`retrace user …`, `token …`, `archive
 * import`), which has no account: it is whoever can reach the store, named by the OS user that ran it when known,
 * or someone not signed in (a refused sign-in), named by the email they tried.
 */
export type AuditActor =
  | Principal
  | { kind: "cli"; osUser: string | null }
  | { kind: "anonymous"; emailTried: string; address: string | null };

function actorColumns(actor: AuditActor) {
  switch (actor.kind) {
    case "user":
      return { actorKind: actor.kind, actorId: actor.id, actorLabel: actor.email, address: actor.address };
    case "token":
      return { actorKind: actor.kind, actorId: actor.id, actorLabel: actor.name, address: actor.address };
    case "cli":
      return { actorKind: actor.kind, actorId: null, actorLabel: actor.osUser ?? "unknown OS user", address: null };
    case "anonymous":
      return { actorKind: actor.kind, actorId: null, actorLabel: actor.emailTried, address: actor.address };
  }
}

/**
 * Notes in Retrace's own audit log that `principal` did `action` to `target`. Call it after the change it
 * describes succeeded (in its transaction when there is one). `details` is small JSON: what changed, never a
 * secret.
 */
export async function recordAudit(
  db: Queryable,
  principal: AuditActor,
  action: AuditAction,
  target: AuditTarget,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.insert(auditEvents).values({
    ...actorColumns(principal),
    action,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    targetLabel: target?.label ?? null,
    details,
  });
}
