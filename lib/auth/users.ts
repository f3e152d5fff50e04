import { randomBytes } from "node:crypto";
import { and, count, eq, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Queryable } from "../db/client";
import { users, type User } from "../db/schema";
import { hashPassword, verifyPassword } from "../crypto/secrets";
import { Conflict, NotFound } from "../errors";
import type { Role } from "./roles";
import { revokeUserSessions } from "./sessions";

const passwordSchema = z.string().min(8, "Password must be at least 8 characters").max(1000);

export const newUserSchema = z.strictObject({
  email: z.string().trim().toLowerCase().email("Enter a valid email address"),
  password: passwordSchema,
  role: z.enum(["admin", "viewer"]).default("viewer"),
});
export type NewUser = z.input<typeof newUserSchema>;

export async function countUsers(db: Queryable): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users);
  return row?.n ?? 0;
}

export async function createUser(
  db: Queryable,
  input: NewUser,
): Promise<Pick<User, "id" | "email" | "role" | "createdAt">> {
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

let dummyHash: string | undefined;

/** Why a sign-in with a password was refused, in general terms (the audit log says it; the form never does). */
export type CredentialsRefusal = "no such user" | "wrong password" | "deactivated";

/**
 * The user with these credentials if active, or why not. An unknown email costs the same scrypt as a known one
 * (against a hash of nothing anyone knows), and a deactivated user's password is checked all the same, so the time
 * of the answer does not tell which emails have accounts.
 */
export async function checkCredentials(
  db: Db,
  email: string,
  password: string,
): Promise<{ user: { id: string; email: string; role: User["role"] } } | { refused: CredentialsRefusal }> {
  const [user] = await db.select().from(users).where(eq(users.email, email.trim().toLowerCase()));
  if (!user) {
    dummyHash ??= hashPassword(randomBytes(32).toString("base64url"));
    verifyPassword(password, dummyHash);
    return { refused: "no such user" };
  }
  if (!verifyPassword(password, user.passwordHash)) return { refused: "wrong password" };
  if (!user.active) return { refused: "deactivated" };
  return { user: { id: user.id, email: user.email, role: user.role } };
}

/** The user with these credentials, if active (checkCredentials without the reason). */
export async function verifyCredentials(db: Db, email: string, password: string) {
  const checked = await checkCredentials(db, email, password);
  return "user" in checked ? checked.user : null;
}

export async function findUserByEmail(db: Queryable, email: string): Promise<Pick<User, "id" | "email" | "active">> {
  const [user] = await db
    .select({ id: users.id, email: users.email, active: users.active })
    .from(users)
    .where(eq(users.email, email.trim().toLowerCase()));
  if (!user) throw new NotFound(`User ${email.trim()}`);
  return user;
}

/** Deactivates a user: they can no longer sign in, and every session of theirs ends now. */
export async function deactivateUser(db: Queryable, userId: string): Promise<{ sessionsEnded: number }> {
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(users)
      .set({ active: false })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    if (updated.length === 0) throw new NotFound("User");
    return { sessionsEnded: await revokeUserSessions(tx, userId) };
  });
}

/** Sets a new password; every session begun before, this one's included, ends. */
export async function changePassword(db: Db, userId: string, password: string): Promise<{ sessionsEnded: number }> {
  const passwordHash = hashPassword(passwordSchema.parse(password));
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(users)
      .set({ passwordHash, passwordChangedAt: sql`now()` })
      .where(eq(users.id, userId))
      .returning({ id: users.id });
    if (updated.length === 0) throw new NotFound("User");
    return { sessionsEnded: await revokeUserSessions(tx, userId) };
  });
}

export type UserSummary = Pick<User, "id" | "email" | "role" | "active" | "createdAt">;

const summaryColumns = {
  id: users.id,
  email: users.email,
  role: users.role,
  active: users.active,
  createdAt: users.createdAt,
};

export async function listUsers(db: Queryable): Promise<UserSummary[]> {
  return db.select(summaryColumns).from(users).orderBy(users.email);
}

export const userChangeSchema = z
  .object({
    role: z.enum(["admin", "viewer"], { error: "role must be admin or viewer" }).optional(),
    active: z.boolean({ error: "active must be true or false" }).optional(),
    password: passwordSchema.optional(),
  })
  .strict()
  .refine((change) => Object.values(change).some((value) => value !== undefined), {
    message: "Send role, active or password",
  });
export type UserChange = z.input<typeof userChangeSchema>;

/**
 * Changes a user's role, activation or password. Deactivating or resetting the password ends every session of
 * theirs. The last active admin can be neither demoted nor deactivated: users are serialised for the check, so
 * two admins demoting each other at once cannot both succeed.
 */
export async function updateUser(
  db: Queryable,
  userId: string,
  input: UserChange,
): Promise<{ user: UserSummary; before: UserSummary; sessionsEnded: number }> {
  const change = userChangeSchema.parse(input);
  if (!z.uuid().safeParse(userId).success) throw new NotFound("User");
  return db.transaction(async (tx) => {
    await tx.execute(sql`lock table users in share row exclusive mode`);
    const [before] = await tx.select(summaryColumns).from(users).where(eq(users.id, userId));
    if (!before) throw new NotFound("User");
    const role: Role = change.role ?? before.role;
    const active = change.active ?? before.active;
    if (before.role === "admin" && before.active && (role !== "admin" || !active)) {
      const [others] = await tx
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.role, "admin"), eq(users.active, true), ne(users.id, userId)));
      if ((others?.n ?? 0) === 0) {
        throw new Conflict(`${before.email} is the last active admin: make another user admin first.`);
      }
    }
    const [user] = await tx
      .update(users)
      .set({
        role,
        active,
        ...(change.password ? { passwordHash: hashPassword(change.password), passwordChangedAt: sql`now()` } : {}),
      })
      .where(eq(users.id, userId))
      .returning(summaryColumns);
    if (!user) throw new NotFound("User");
    const endsSessions = change.password !== undefined || (before.active && !active);
    return { user, before, sessionsEnded: endsSessions ? await revokeUserSessions(tx, userId) : 0 };
  });
}
