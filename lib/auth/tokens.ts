import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../db/client";
import { apiTokens } from "../db/schema";
import { hashApiToken, newApiToken } from "../crypto/secrets";

export const tokenNameSchema = z.string().trim().min(1, "Token name is required").max(100);

/** Creates a token and returns it in clear text: the only time it is ever visible. */
export async function createApiToken(
  db: Queryable,
  name: string,
): Promise<{ id: string; name: string; token: string }> {
  const { token, hash } = newApiToken();
  const [row] = await db
    .insert(apiTokens)
    .values({ name: tokenNameSchema.parse(name), tokenHash: hash })
    .returning({ id: apiTokens.id, name: apiTokens.name });
  if (!row) throw new Error("token insert returned nothing");
  return { ...row, token };
}

export async function findApiToken(db: Queryable, token: string) {
  const [row] = await db
    .update(apiTokens)
    .set({ lastUsedAt: new Date() })
    .where(eq(apiTokens.tokenHash, hashApiToken(token)))
    .returning({ id: apiTokens.id, name: apiTokens.name });
  return row ?? null;
}
