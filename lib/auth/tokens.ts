import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client";
import { apiTokens, users } from "../db/schema";
import { hashApiToken, newApiToken } from "../crypto/secrets";
import { NotFound } from "../errors";
import type { Role } from "./roles";

export const tokenNameSchema = z.string().trim().min(1, "Token name is required").max(100);

export const newTokenSchema = z.strictObject({
  name: tokenNameSchema,
  role: z.enum(["admin", "viewer"], { error: "role must be admin or viewer" }).default("viewer"),
});

export type ApiTokenRow = {
  id: string;
  name: string;
  role: Role;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

const tokenColumns = {
  id: apiTokens.id,
  name: apiTokens.name,
  role: apiTokens.role,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

/**
 * Creates a token and returns it in clear text: the only time it is ever visible. A token acts with `role`
 * (admin unless given: the command line's tokens are for scripts that connect databases too).
 */
export async function createApiToken(
  db: Queryable,
  name: string,
  options: { role?: Role; createdBy?: string | null } = {},
): Promise<{ id: string; name: string; role: Role; token: string }> {
  const { token, hash } = newApiToken();
  const [row] = await db
    .insert(apiTokens)
    .values({
      name: tokenNameSchema.parse(name),
      tokenHash: hash,
      role: options.role ?? "admin",
      createdBy: options.createdBy ?? null,
    })
    .returning({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role });
  if (!row) throw new Error("token insert returned nothing");
  return { ...row, token };
}

/**
 * last_used_at is written at most this often per token (as a session's last_seen_at is), so a script calling the
 * API does not make every read request a durable write to the store (a commit waiting for its WAL flush).
 */
const USED_RESOLUTION_SECONDS = 60;

/** The live token with this secret (its last use noted, to the minute); null when unknown or revoked. */
export async function findApiToken(db: Queryable, token: string) {
  const [row] = await db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      stale: sql<boolean>`${apiTokens.lastUsedAt} is null
        or ${apiTokens.lastUsedAt} < now() - make_interval(secs => ${USED_RESOLUTION_SECONDS})`,
    })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashApiToken(token)), isNull(apiTokens.revokedAt)));
  if (!row) return null;
  const { stale, ...found } = row;
  if (stale)
    await db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(apiTokens.id, found.id));
  return found;
}

/** Every token, live ones first, newest first; never a secret or its hash. */
export async function listApiTokens(
  db: Queryable,
): Promise<(Omit<ApiTokenRow, "createdBy"> & { createdByEmail: string | null })[]> {
  return db
    .select({ ...tokenColumns, createdByEmail: users.email })
    .from(apiTokens)
    .leftJoin(users, eq(users.id, apiTokens.createdBy))
    .orderBy(apiTokens.revokedAt, desc(apiTokens.createdAt));
}

/**
 * Revokes a token: it opens nothing from now on. Revoking a revoked token changes nothing; `revoked` says
 * whether this call did it.
 */
export async function revokeApiToken(
  db: Queryable,
  id: string,
): Promise<{ token: Omit<ApiTokenRow, "createdBy">; revoked: boolean }> {
  if (!z.uuid().safeParse(id).success) throw new NotFound("Token");
  const [revoked] = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning(tokenColumns);
  if (revoked) return { token: revoked, revoked: true };
  const [existing] = await db.select(tokenColumns).from(apiTokens).where(eq(apiTokens.id, id));
  if (!existing) throw new NotFound("Token");
  return { token: existing, revoked: false };
}
