/** The callers the access tests walk routes as: real sessions (next-auth cookies) and real API tokens. */
import { encode } from "next-auth/jwt";
import { sessionSecret } from "@/lib/auth/secret";

export const CALLERS = ["nobody", "malformedToken", "revokedToken", "viewer", "readOnlyToken", "admin"] as const;
export type Caller = (typeof CALLERS)[number];

/** Headers that sign a request in as `caller`, for the instance `secret`. Import after startWebStore. */
export async function callerHeaders(secret: string): Promise<Record<Caller, Record<string, string>>> {
  const { getDb } = await import("@/lib/db");
  const { createUser } = await import("@/lib/auth/users");
  const { createApiToken, revokeApiToken } = await import("@/lib/auth/tokens");
  const db = getDb();
  const suffix = crypto.randomUUID().slice(0, 8);
  const viewer = await createUser(db, {
    email: `viewer-${suffix}@example.com`,
    password: "viewer password",
    role: "viewer",
  });
  const admin = await createUser(db, {
    email: `admin-${suffix}@example.com`,
    password: "admin password",
    role: "admin",
  });
  const readOnly = await createApiToken(db, `read-only ${suffix}`, { role: "viewer" });
  const revoked = await createApiToken(db, `revoked ${suffix}`, { role: "admin" });
  await revokeApiToken(db, revoked.id);
  return {
    nobody: {},
    malformedToken: { authorization: "Bearer not-a-token" },
    revokedToken: { authorization: `Bearer ${revoked.token}` },
    viewer: { cookie: await sessionCookie(secret, viewer) },
    readOnlyToken: { authorization: `Bearer ${readOnly.token}` },
    admin: { cookie: await sessionCookie(secret, admin) },
  };
}

/** Signs a user in the way next-auth does (the JWT callback opens a store session) and returns the cookie. */
export async function sessionCookie(secret: string, user: { id: string; email: string; role: "admin" | "viewer" }) {
  const { getDb } = await import("@/lib/db");
  const { sessionToken, SESSION_MAX_AGE_SECONDS } = await import("@/lib/auth/sessions");
  const token = await sessionToken(getDb(), { sub: user.id, email: user.email }, user);
  const jwt = await encode({ token, secret: sessionSecret(secret), maxAge: SESSION_MAX_AGE_SECONDS });
  return `next-auth.session-token=${jwt}`;
}
