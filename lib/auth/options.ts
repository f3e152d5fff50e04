import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getDb } from "../db";
import { env } from "../env";
import { createLogger } from "../log";
import { requestAddress } from "./principal";
import { SignInLimited } from "./rate-limit";
import type { Role } from "./roles";
import { sessionSecret } from "./secret";
import { revokeSession, SessionEnded, sessionLimits, sessionToken } from "./sessions";
import { auditSession, signInWithPassword } from "./sign-in";

export type { Role } from "./roles";

const log = createLogger("auth");

/**
 * next-auth's options for one request. `request.address` is the client's address (requestAddress) where next-auth
 * does not hand the request on: its sign-out event, audited with it.
 */
export function authOptions(request: { address?: string | null } = {}): NextAuthOptions {
  return {
    secret: sessionSecret(env.web.RETRACE_SECRET),
    session: { strategy: "jwt", maxAge: sessionLimits().maxAgeSeconds },
    pages: { signIn: "/login" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(credentials, request) {
          if (!credentials?.email || !credentials.password) return null;
          try {
            return await signInWithPassword(
              getDb(),
              credentials.email,
              credentials.password,
              requestAddress(request.headers, env.web.RETRACE_TRUSTED_PROXIES),
            );
          } catch (error) {
            // next-auth hands a thrown message to the sign-in form: only this one is meant for it.
            if (error instanceof SignInLimited) throw new Error(error.message);
            log.error({ err: error }, "sign-in failed");
            throw new Error("Sign-in is unavailable right now. Try again.");
          }
        },
      }),
    ],
    callbacks: {
      // `user` is only there at sign-in (next-auth types it as always present).
      jwt({ token, user }: { token: Parameters<typeof sessionToken>[1]; user?: { id: string; role?: unknown } }) {
        const role: Role | undefined = user?.role === "admin" || user?.role === "viewer" ? user.role : undefined;
        return sessionToken(getDb(), token, user ? { id: user.id, role } : undefined);
      },
      session({ session, token }) {
        if (session.user) {
          session.user.id = token.sub ?? "";
          session.user.role = token.role ?? "viewer";
          session.user.email = token.email ?? session.user.email;
        }
        return session;
      },
    },
    events: {
      async signOut({ token }) {
        // Only the end of a live session is audited: a cookie already ended (revoked, or its user deactivated)
        // signs nobody out.
        const ended = await revokeSession(getDb(), token.sid);
        if (ended && token.sub && token.email) {
          const actor = {
            kind: "user" as const,
            id: token.sub,
            email: token.email,
            role: token.role ?? ("viewer" as const),
            address: request.address ?? null,
          };
          await auditSession(getDb(), actor, "session.sign_out");
        }
      },
    },
    logger: {
      error(code, metadata) {
        // A revoked or expired session read by getServerSession: expected, and answered as signed out.
        if (metadata instanceof SessionEnded) return;
        log.error({ code, err: metadata }, "next-auth error");
      },
      warn(code) {
        log.warn({ code }, "next-auth warning");
      },
      debug() {},
    },
  };
}
