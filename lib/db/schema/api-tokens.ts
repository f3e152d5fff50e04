import { pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { userRole } from "./users";

/**
 * API tokens are shown once at creation; only their SHA-256 is kept. A token acts with its own role (viewer:
 * read-only); a revoked token is kept, so the audit log can still name it, and opens nothing.
 */
export const apiTokens = pgTable("api_tokens", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  role: userRole("role").notNull().default("admin"),
  /** Who created it (null: the `retrace token create` command, or a user since removed). */
  createdBy: uuid("created_by"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});
