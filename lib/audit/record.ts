import { sql } from "drizzle-orm";
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

/** The store's now as the API writes `at`: ISO 8601 in UTC, to the millisecond. */
const NOW_ISO = sql`to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Like recordAudit, for an event that can repeat without bound (a sign-in refused by the rate limit): one row per
 * `key` and window of `windowMinutes` (windows counted from the epoch on the store's clock), its `at` the first
 * time, `details.count` how many times and `details.lastAt` the latest. Race-free in one statement, so every call
 * costs the same: the unique partial index on rollup_key makes concurrent first calls of a window one insert, the
 * others wait for it and add to its count (ON CONFLICT DO UPDATE), whichever commits first.
 */
export async function recordRepeatedAudit(
  db: Queryable,
  principal: AuditActor,
  action: AuditAction,
  details: Record<string, unknown>,
  repeat: { key: string; windowMinutes: number },
): Promise<void> {
  const window = sql`floor(extract(epoch from now()) / ${repeat.windowMinutes * 60})::bigint`;
  await db
    .insert(auditEvents)
    .values({
      ...actorColumns(principal),
      action,
      details: sql`${JSON.stringify(details)}::jsonb || jsonb_build_object('count', 1, 'lastAt', ${NOW_ISO})`,
      rollupKey: sql`${`${action} `} || ${window} || ${` ${repeat.key}`}`,
    })
    .onConflictDoUpdate({
      target: auditEvents.rollupKey,
      targetWhere: sql`${auditEvents.rollupKey} is not null`,
      set: {
        // The count in the row, not a copy read before: the row is locked while this adds to it. A call whose
        // transaction began earlier may commit later: lastAt only moves forward (same fixed-width UTC text: text
        // order is time order).
        details: sql`${auditEvents.details} || jsonb_build_object(
          'count', coalesce((${auditEvents.details}->>'count')::bigint, 1) + 1,
          'lastAt', greatest(${auditEvents.details}->>'lastAt', ${NOW_ISO}))`,
      },
    });
}
