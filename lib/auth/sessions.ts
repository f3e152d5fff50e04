import { and, eq, isNull, lt, sql } from "drizzle-orm";
import type { JWT } from "next-auth/jwt";
import { z } from "zod";
import type { Queryable } from "../db/client";
import { env } from "../env";
import { sessions, users } from "../db/schema";
import type { Role } from "./roles";

/**
 * Browser sessions live in the store, not only in the cookie. next-auth's JWT carries the
 * session's id (`sid`); a request is signed in only while that row is neither revoked nor
 * expired, its user is active, and the session began after the user's last password change.
 * A session ends after `idleSeconds` without a request and `maxAgeSeconds` after sign-in however active
 * (RETRACE_SESSION_IDLE_MINUTES and RETRACE_SESSION_MAX_HOURS; 12 hours and 7 days by default).
 */

export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 3600;

export type SessionLimits = { idleSeconds: number; maxAgeSeconds: number };

/** The limits this web server runs with. */
export function sessionLimits(): SessionLimits {
  return {
    idleSeconds: env.web.RETRACE_SESSION_IDLE_MINUTES * 60,
    maxAgeSeconds: env.web.RETRACE_SESSION_MAX_HOURS * 3600,
  };
}

/** last_seen_at is written at most this often per session, so a busy page does not write at every request. */
const SEEN_RESOLUTION_SECONDS = 60;

export type SessionUser = { id: string; email: string; role: Role; sessionId: string };

/** The token of a session that is over; the JWT callback throws it and next-auth clears the cookie. */
export class SessionEnded extends Error {
  constructor() {
    super("The session has ended (signed out, expired, user deactivated or password changed).");
  }
}

const sessionIdSchema = z.uuid();

/** Opens a session for a user who just proved who they are. */
export async function createSession(
  db: Queryable,
  userId: string,
  maxAgeSeconds = sessionLimits().maxAgeSeconds,
): Promise<{ id: string; expiresAt: Date }> {
  // Nobody reads expired rows again; sign-in is a rare enough moment to sweep them.
  await db.delete(sessions).where(lt(sessions.expiresAt, sql`now()`));
  const [row] = await db
    .insert(sessions)
    .values({ userId, expiresAt: sql`now() + make_interval(secs => ${maxAgeSeconds})` })
    .returning({ id: sessions.id, expiresAt: sessions.expiresAt });
  if (!row) throw new Error("session insert returned nothing");
  return row;
}

/** Ends one session; true when it was still open (a malformed or already ended id ends nothing). */
export async function revokeSession(db: Queryable, sessionId: unknown): Promise<boolean> {
  if (!sessionIdSchema.safeParse(sessionId).success) return false;
  const ended = await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(sessions.id, String(sessionId)), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return ended.length > 0;
}

/** Ends every session of a user; returns how many were open. */
export async function revokeUserSessions(db: Queryable, userId: string): Promise<number> {
  const revoked = await db
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return revoked.length;
}

/**
 * The user of a live session, with their current email and role; null for anything else. Seeing the session
 * keeps it from going idle.
 */
export async function findSessionUser(
  db: Queryable,
  sessionId: unknown,
  limits: Pick<SessionLimits, "idleSeconds"> = sessionLimits(),
): Promise<SessionUser | null> {
  const parsed = sessionIdSchema.safeParse(sessionId);
  if (!parsed.success) return null;
  const [row] = await db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      sessionId: sessions.id,
      stale: sql<boolean>`${sessions.lastSeenAt} < now() - make_interval(secs => ${SEEN_RESOLUTION_SECONDS})`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.id, parsed.data),
        isNull(sessions.revokedAt),
        sql`${sessions.expiresAt} > now()`,
        sql`${sessions.lastSeenAt} > now() - make_interval(secs => ${limits.idleSeconds})`,
        eq(users.active, true),
        sql`(${users.passwordChangedAt} is null or ${sessions.createdAt} >= ${users.passwordChangedAt})`,
      ),
    );
  if (!row) return null;
  const { stale, ...user } = row;
  if (stale)
    await db
      .update(sessions)
      .set({ lastSeenAt: sql`now()` })
      .where(eq(sessions.id, user.sessionId));
  return user;
}

/**
 * next-auth's JWT callback. At sign-in (`user` given) it opens a session and puts its id in the
 * token; on every later read the token is good only while that session is live, and carries the
 * user's current email and role.
 */
export async function sessionToken(
  db: Queryable,
  token: JWT,
  user?: { id: string; email?: string | null; role?: Role },
): Promise<JWT> {
  if (user) {
    const session = await createSession(db, user.id);
    return { ...token, sub: user.id, sid: session.id, role: user.role ?? "viewer" };
  }
  const current = await findSessionUser(db, token.sid);
  if (!current) throw new SessionEnded();
  return { ...token, sub: current.id, email: current.email, role: current.role };
}
