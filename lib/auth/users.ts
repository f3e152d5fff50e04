import { count, eq } from "drizzle-orm";
import { z } from "zod";
import { sql } from "drizzle-orm";
import type { Db, Queryable } from "../db/client";
import { users, type User } from "../db/schema";
import { hashPassword, verifyPassword } from "../crypto/secrets";
import { Conflict } from "../errors";

export const newUserSchema = z.object({
  email: z.string().trim().toLowerCase().email("Enter a valid email address"),
  password: z.string().min(8, "Password must be at least 8 characters"),
  role: z.enum(["admin", "viewer"]).default("viewer"),
});
export type NewUser = z.input<typeof newUserSchema>;

export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

export async function createUser(db: Queryable, input: NewUser): Promise<Omit<User, "passwordHash">> {
  const { email, password, role } = newUserSchema.parse(input);
  const [created] = await db
    .insert(users)
    .values({ email, role, passwordHash: hashPassword(password) })
    .onConflictDoNothing({ target: users.email })
    .returning({ id: users.id, email: users.email, role: users.role, createdAt: users.createdAt });
  if (!created) throw new Conflict(`A user with email ${email} already exists.`);
  return created;
}

/** The first admin, only while there are no users (the /setup page). */
export async function createFirstAdmin(db: Db, input: { email: string; password: string }) {
  return db.transaction(async (tx) => {
    // Serialise concurrent setups so exactly one first admin can exist.
    await tx.execute(sql`lock table users in share row exclusive mode`);
    if ((await countUsers(tx)) > 0) throw new Conflict("Setup is already complete.");
    return createUser(tx, { ...input, role: "admin" });
  });
}

export async function verifyCredentials(db: Db, email: string, password: string) {
  const [user] = await db.select().from(users).where(eq(users.email, email.trim().toLowerCase()));
  if (!user || !verifyPassword(password, user.passwordHash)) return null;
  return { id: user.id, email: user.email, role: user.role };
}
