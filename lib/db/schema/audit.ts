import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

/**
 * Retrace's own audit log: who (a user or an API token, named as they were then) did what (a closed list of
 * actions, lib/audit/actions.ts) to what, from which address. Rows are inserted and never changed, but for a
 * rolled-up row (rollup_key), whose count and last time grow while what it counts repeats.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * `user`, `token`, `cli` (the command line: no actor_id, labelled with the OS user that ran it) or `anonymous`
     * (a refused sign-in).
     */
    actorKind: text("actor_kind").notNull(),
    actorId: uuid("actor_id"),
    /** The user's email or the token's name at the time; the OS user that ran the command line. */
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type"),
    targetId: text("target_id"),
    targetLabel: text("target_label"),
    details: jsonb("details")
      .notNull()
      .default(sql`'{}'::jsonb`),
    address: text("address"),
    /**
     * Set on an event that can repeat without bound (a sign-in refused by the rate limit): every repeat with the same
     * key is counted in the one row holding it (lib/audit/record.ts recordRepeatedAudit). Null for every other row.
     */
    rollupKey: text("rollup_key"),
  },
  (t) => [
    index("audit_events_action").on(t.action, t.id),
    index("audit_events_actor").on(t.actorId, t.id),
    uniqueIndex("audit_events_rollup_key")
      .on(t.rollupKey)
      .where(sql`${t.rollupKey} is not null`),
  ],
);

/**
 * Refused sign-ins, counted per account and per address over a window (lib/auth/rate-limit.ts). Old rows are
 * swept at each refusal.
 */
export const signInFailures = pgTable(
  "sign_in_failures",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    email: text("email").notNull(),
    address: text("address").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sign_in_failures_email").on(t.email, t.at), index("sign_in_failures_address").on(t.address, t.at)],
);
