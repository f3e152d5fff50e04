import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getDb } from "../db";
import { env } from "../env";
import { sessionSecret } from "./secret";
import { verifyCredentials } from "./users";

export type Role = "admin" | "viewer";

export function authOptions(): NextAuthOptions {
  return {
    secret: sessionSecret(env.web.RETRACE_SECRET),
    session: { strategy: "jwt", maxAge: 7 * 24 * 3600 },
    pages: { signIn: "/login" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        async authorize(credentials) {
          if (!credentials?.email || !credentials.password) return null;
          return verifyCredentials(getDb(), credentials.email, credentials.password);
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user && "role" in user) token.role = user.role as Role;
        return token;
      },
      session({ session, token }) {
        if (session.user) {
          session.user.id = token.sub ?? "";
          session.user.role = (token.role as Role | undefined) ?? "viewer";
        }
        return session;
      },
    },
  };
}
